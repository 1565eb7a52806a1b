import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { RunHooks } from '../../src/core/engine/run-hooks.ts';
import { finalized, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const ONE_TASK = 'name: one\ntasks:\n  a:\n    run: echo a\n';

test('finalize merges the delivery runFinished returns into the one stored now, keeping what was recorded while it ran', async () => {
  let engine: Engine | undefined;
  const hooks: RunHooks = {
    prepareRun: async () => ({ delivery: { branch: 'prepared' } }),
    runFinished: async (run) => {
      // What GitRunHooks does when a step fails: record progress directly, then finish.
      await engine!.recordDelivery(run.id, { pushedTo: 'origin', branch: 'renamed by the hook' });
      return { delivery: { changed: true } };
    },
  };
  engine = await Engine.open({ stateDir: tempDir('o8-state-'), cwd: tempDir('o8-cwd-'), hooks: [hooks] });
  try {
    const { runId } = await engine.launch({ workflow: workflow(ONE_TASK) });
    assert.equal((await runFinished(engine, runId)).state, 'completed');
    const run = await finalized(engine, runId);
    assert.deepEqual(run.delivery, { branch: 'renamed by the hook', pushedTo: 'origin', changed: true });
  } finally {
    await engine.close();
  }
});

test('close waits for a run being finalized (a push, a pull request) instead of leaving it to the next owner', async () => {
  const stateDir = tempDir('o8-state-');
  const slowPublish: RunHooks = {
    runFinished: async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { delivery: { pullRequest: { url: 'https://example.test/pr/1', number: 1 } } };
    },
  };
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-'), hooks: [slowPublish] });
  const { runId } = await engine.launch({ workflow: workflow(ONE_TASK) });
  await runFinished(engine, runId);
  await engine.close();
  const reader = await ReadOnlyEngine.open(stateDir);
  try {
    const { run } = await reader.status(runId);
    assert.equal(run.finalized, true);
    assert.equal(run.delivery?.pullRequest?.url, 'https://example.test/pr/1');
  } finally {
    await reader.close();
  }
});
