import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, startOrchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/status-watch.test.ts ${skip} ***\n`);

// The first task goes on once the test creates `go`: only after the watch is up.
const SLOW = 'name: slow\ntasks:\n  first:\n    run: while [ ! -f go ]; do sleep 0.05; done; echo first\n  second:\n    run: echo second\n    needs: first\n';

describe('orchestr8 status --watch', { skip }, () => {
  it('follows a run another process owns, live, and exits with its outcome when it ends', { timeout: 60_000 }, async () => {
    const root = tempDir('o8-watch-');
    const state = path.join(root, 'state');
    fs.writeFileSync(path.join(root, 'slow.yaml'), SLOW);
    const owner = startOrchestr8(root, ['--state', state, 'run', 'slow.yaml']);
    try {
      const runId = await until(
        'the run to be launched',
        async () => {
          const listed = await orchestr8(root, ['--state', state, '--json', 'status']);
          return listed.code === 0 ? (JSON.parse(listed.stdout) as { runs: { id: string }[] }).runs[0]?.id : undefined;
        },
        20_000,
        () => owner.output().stderr,
      );
      const watch = startOrchestr8(root, ['--state', state, 'status', '--watch', runId]);
      await until(
        'the watch to show the run',
        () => watch.output().stdout.includes(runId),
        20_000,
        () => watch.output().stderr,
      );
      fs.writeFileSync(path.join(root, 'go'), '');
      const ownerDone = await owner.exited;
      assert.equal(ownerDone.code, 0, ownerDone.stderr);
      const endedAt = Date.now();
      const watched = await Promise.race([
        watch.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the watch did not end: ${JSON.stringify(watch.output())}`)), 15_000)),
      ]);
      assert.equal(watched.code, 0, watched.stderr);
      assert.ok(Date.now() - endedAt < 5000, 'it ends with the run, not on a timer');
      assert.match(watched.stdout, /second/, 'it showed the transitions that happened while it watched');
      assert.match(watched.stdout, /slow completed/);
      assert.doesNotMatch(watched.stdout, /nobody runs/);
    } finally {
      owner.child.kill();
    }
  });

  it('returns at once for a run that already ended, with a failed run’s exit code', { timeout: 60_000 }, async () => {
    const root = tempDir('o8-watch-');
    const state = path.join(root, 'state');
    fs.writeFileSync(path.join(root, 'fail.yaml'), 'name: fail\ntasks:\n  boom:\n    run: exit 3\n');
    const ran = await orchestr8(root, ['--state', state, 'run', 'fail.yaml']);
    assert.equal(ran.code, 1, ran.stderr);
    const runId = (JSON.parse((await orchestr8(root, ['--state', state, '--json', 'status'])).stdout) as { runs: { id: string }[] }).runs[0]!.id;
    const watched = await orchestr8(root, ['--state', state, 'status', '--watch', runId]);
    assert.equal(watched.code, 1, watched.stderr);
  });
});
