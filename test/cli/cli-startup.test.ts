import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isLockLive, readLock } from '../../src/core/store/state-lock.ts';
import { CLI, cliMissingReason, orchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
const RECORDER = path.resolve(import.meta.dirname, 'fixtures/record-bundles.cjs');
const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A project folder outside any git repository (runs work in place). */
function project(): string {
  const dir = tempDir('o8-startup-');
  fs.mkdirSync(path.join(dir, '.orchestr8'));
  return dir;
}

/** Runs `orchestr8 ARGS` and answers with the dist/ bundles it required. */
async function bundlesLoaded(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; bundles: string[] }> {
  const out = path.join(tempDir('o8-loaded-'), 'loaded.json');
  const r = await orchestr8(cwd, args, { NODE_OPTIONS: `--require ${RECORDER}`, O8_LOADED_OUT: out });
  assert.ok(fs.existsSync(out), `no record of what ${args.join(' ')} loaded: ${r.stderr}`);
  const dist = path.dirname(CLI);
  const bundles = (JSON.parse(fs.readFileSync(out, 'utf8')) as string[]).filter((f) => path.dirname(f) === dist).map((f) => path.basename(f));
  return { code: r.code, stdout: r.stdout, bundles: bundles.sort() };
}

describe('the CLI starts fast: it loads only what a command needs', { skip }, () => {
  it('cli.cjs is the command line alone, not the engine', () => {
    const size = fs.statSync(CLI).size;
    assert.ok(size < 400_000, `dist/cli.cjs is ${size} bytes; the engine, sql.js and the SDKs belong in the bundles loaded later`);
  });

  it('--version, --help and launch load cli.cjs only; validate and status load no engine', { timeout: 60_000 }, async () => {
    const dir = project();
    for (const args of [['--version'], ['--help'], ['launch', '--run', 'true']]) {
      const r = await bundlesLoaded(dir, args);
      assert.equal(r.code, 0);
      assert.deepEqual(r.bundles, ['cli.cjs'], `${args.join(' ')} loaded ${r.bundles.join(', ')}`);
    }
    const workflow = path.join(dir, 'w.yaml');
    fs.writeFileSync(workflow, 'name: w\ntasks:\n  a:\n    run: echo a\n');
    const validate = await bundlesLoaded(dir, ['validate', workflow]);
    assert.equal(validate.code, 0);
    assert.deepEqual(validate.bundles, ['cli-validate.cjs', 'cli.cjs']);
    const status = await bundlesLoaded(dir, ['status']);
    assert.equal(status.code, 0);
    assert.deepEqual(status.bundles, ['cli-read.cjs', 'cli.cjs']);
    // The one launched above ran (the background owner it started took it in).
    await until('the background owner to exit', () => !fs.existsSync(path.join(dir, '.orchestr8', 'state', 'owner.lock')), 30_000);
  });
});

describe('a cold launch is durable before any owner has opened the state', { skip }, () => {
  it('prints the id of a request in the inbox; an owner that dies after launching it leaves exactly one run', { timeout: 90_000 }, async () => {
    const dir = project();
    const state = path.join(dir, '.orchestr8', 'state');
    // The background owner dies (SIGKILL) right after launching the run, before removing the request.
    const launched = await orchestr8(dir, ['--json', 'launch', '--run', 'echo once'], { ORCHESTR8_CRASH_AT: 'inbox.launched' });
    assert.equal(launched.code, 0, launched.stderr);
    const { runId, taskIds } = JSON.parse(launched.stdout) as { runId: string; taskIds: string[] };
    assert.deepEqual(taskIds, [`${runId}.task`]);
    const request = path.join(state, 'inbox', `${runId}.json`);
    assert.ok(fs.existsSync(request), 'the launch request is in the inbox when launch returns');
    await until(
      'the background owner to die after launching',
      () => {
        const lock = readLock(state);
        return lock !== undefined && !isLockLive(lock);
      },
      30_000,
    );
    assert.ok(fs.existsSync(request), 'the owner died before removing the request');

    // The next command that looks resumes the dead owner's work; the request is not launched twice.
    const status = await orchestr8(dir, ['status']);
    assert.equal(status.code, 0, status.stderr);
    await until(
      'the run to complete',
      async () => {
        const s = JSON.parse((await orchestr8(dir, ['--json', 'status', runId])).stdout) as { run: { state: string } };
        return s.run.state === 'completed';
      },
      60_000,
    );
    await until('the background owner to exit', () => !fs.existsSync(path.join(state, 'owner.lock')), 30_000);
    const list = JSON.parse((await orchestr8(dir, ['--json', 'status'])).stdout) as { runs: { id: string }[] };
    assert.deepEqual(
      list.runs.map((r) => r.id),
      [runId],
    );
    assert.deepEqual(fs.readdirSync(path.join(state, 'inbox')), []);
  });
});
