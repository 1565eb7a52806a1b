import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, startOrchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/dead-owner.test.ts ${skip} ***\n`);

// `first` runs until the test lets it go (the file `go`), so the owner is surely killed mid-run whatever the load.
const slow = (go: string) =>
  `name: slow\ntasks:\n  first:\n    run: while [ ! -f ${go} ]; do sleep 0.1; done; echo first\n  second:\n    run: echo second\n    needs: first\n`;

describe('after kill -9 of a foreground run, the next command that looks resumes its runs', { skip }, () => {
  it('status resumes the run in a background owner, says so, and the run completes', { timeout: 120_000 }, async () => {
    const project = tempDir('o8-dead-owner-');
    const state = path.join(project, 'state');
    fs.writeFileSync(path.join(project, 'slow.yaml'), slow(path.join(project, 'go')));
    const o8 = (...args: string[]) => orchestr8(project, ['--state', state, ...args]);

    const owner = startOrchestr8(project, ['--state', state, 'run', 'slow.yaml']);
    const runId = await until(
      'the run to start',
      async () => {
        const r = await o8('--json', 'status');
        if (r.code !== 0) return undefined;
        const runs = JSON.parse(r.stdout).runs as { id: string; state: string }[];
        return runs[0]?.id;
      },
      30_000,
      () => owner.output().stderr,
    );
    owner.child.kill('SIGKILL');
    await owner.exited;

    const look = await o8('status');
    fs.writeFileSync(path.join(project, 'go'), '');
    assert.equal(look.code, 0, look.stderr);
    assert.match(look.stderr, new RegExp(`resumed 1 unfinished run\\(s\\) in a background owner after the owner \\(pid ${owner.child.pid}, `));
    const done = await until(
      'the resumed run to complete',
      async () => {
        const r = await o8('--json', 'status', runId);
        return r.code === 0 && JSON.parse(r.stdout).run.state === 'completed' ? JSON.parse(r.stdout) : undefined;
      },
      60_000,
    );
    assert.deepEqual(
      (done.tasks as { key: string; state: string }[]).map((t) => [t.key, t.state]),
      [
        ['first', 'completed'],
        ['second', 'completed'],
      ],
    );
    const again = await o8('status');
    assert.doesNotMatch(again.stderr, /resumed/, 'only the first look after the death resumes');
  });
});

describe('a second foreground run while another process owns the state', { skip }, () => {
  it('goes through the owner’s local API with live progress and its own exit code', { timeout: 120_000 }, async () => {
    const project = tempDir('o8-second-run-');
    const state = path.join(project, 'state');
    fs.writeFileSync(path.join(project, 'gate.yaml'), 'name: gate\ntasks:\n  hold:\n    wait: release?\n');
    fs.writeFileSync(path.join(project, 'side.yaml'), 'name: side\ntasks:\n  a:\n    run: echo side-a\n  b:\n    run: exit 3\n    needs: a\n');
    const owner = startOrchestr8(project, ['--state', state, 'run', 'gate.yaml']);
    try {
      await until(
        'api.json',
        () => fs.existsSync(path.join(state, 'api.json')),
        30_000,
        () => owner.output().stderr,
      );
      const second = await orchestr8(project, ['--state', state, 'run', 'side.yaml']);
      assert.equal(second.code, 1, `the run failed (task b), so exit 1: ${second.stderr}`);
      assert.doesNotMatch(second.stderr, /serves no local API|owned by/);
      assert.match(second.stdout, /side · run \S+ · 2 tasks/);
      assert.match(second.stdout, /a\b.*completed|✓.*a/);
      assert.match(second.stdout, /b\b.*failed|✗.*b/);

      const json = await orchestr8(project, ['--state', state, '--json', 'run', 'side.yaml']);
      assert.equal(json.code, 1);
      const final = JSON.parse(json.stdout) as { run: { state: string; id: string } };
      assert.equal(final.run.state, 'failed');
      const lock = JSON.parse(fs.readFileSync(path.join(state, 'owner.lock'), 'utf8')) as { pid: number };
      assert.equal(lock.pid, owner.child.pid, 'the first run stayed the owner');
    } finally {
      owner.child.kill('SIGTERM');
      await owner.exited;
    }
  });
});
