import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { RunHooks } from '../../src/core/engine/run-hooks.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { finalized, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

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
  // The publish step is under way when close is called and ends only after that (a fixed delay
  // could end first on a loaded machine, and the test would pass without testing the wait).
  let publishing!: () => void;
  const publishStarted = new Promise<void>((resolve) => (publishing = resolve));
  let closeCalled!: () => void;
  const closing = new Promise<void>((resolve) => (closeCalled = resolve));
  const slowPublish: RunHooks = {
    runFinished: async () => {
      publishing();
      await closing;
      return { delivery: { pullRequest: { url: 'https://example.test/pr/1', number: 1 } } };
    },
  };
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-'), hooks: [slowPublish] });
  const { runId } = await engine.launch({ workflow: workflow(ONE_TASK) });
  await runFinished(engine, runId);
  await publishStarted;
  const closed = engine.close();
  closeCalled();
  await closed;
  const reader = await ReadOnlyEngine.open(stateDir);
  try {
    const { run } = await reader.status(runId);
    assert.equal(run.finalized, true);
    assert.equal(run.delivery?.pullRequest?.url, 'https://example.test/pr/1');
  } finally {
    await reader.close();
  }
});

test('a retry that lands while the run is being finalized is not undone by the finalization', { timeout: 120_000 }, async () => {
  const flags = tempDir('o8-flag-');
  const retried = new Map<string, Promise<void>>();
  let engine: Engine | undefined;
  // The retry comes at a different moment of the finalization each time: while the hook still
  // works (it returns k turns of the event loop later), or after it returned.
  const hooks: RunHooks = {
    runFinished: async (run) => {
      if (run.state !== 'failed' || retried.has(run.id)) return;
      writeFileSync(join(flags, run.id), '');
      const k = retried.size % 8;
      const retry = () => void engine!.retry(run.id).then(resolveRetry, rejectRetry);
      let resolveRetry!: () => void;
      let rejectRetry!: (e: unknown) => void;
      retried.set(run.id, new Promise<void>((resolve, reject) => ((resolveRetry = resolve), (rejectRetry = reject))));
      if (k < 6) {
        retry();
        for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
      } else setTimeout(retry, k - 6);
    },
  };
  engine = await Engine.open({ stateDir: tempDir('o8-state-'), cwd: tempDir('o8-cwd-'), hooks: [hooks] });
  // A finalization that read the run before the retry must not write it back after it.
  const resumed = new Set<string>();
  const undone: string[] = [];
  engine.onEvent((e) => {
    if (e.type === 'workflow.resumed') resumed.add(e.run.id);
    if (e.type === 'run.delivered' && e.run.state === 'failed' && resumed.has(e.run.id)) undone.push(e.run.id);
  });
  try {
    for (let i = 0; i < 24; i++) {
      const { runId }: { runId: string } = await engine.launch({
        workflow: workflow(`name: later\ntasks:\n  a:\n    run: test -e "${flags}/$ORCHESTR8_RUN_ID"\n`),
      });
      await until(`run ${runId}'s first finish`, () => retried.has(runId), 20_000);
      await retried.get(runId);
      let seen = '';
      const run: RunRecord = await until(
        `run ${runId} completed after its retry, and delivered`,
        async (): Promise<RunRecord | undefined> => {
          const status = await engine!.status(runId);
          seen = `run ${status.run.state}, task ${status.tasks[0]?.state}`;
          return status.run.state === 'completed' && status.run.finalized ? status.run : undefined;
        },
        20_000,
        () => `last seen: ${seen}`,
      );
      assert.equal(run.state, 'completed');
    }
    assert.deepEqual(undone, [], 'no finalization wrote a retried run back as failed');
  } finally {
    await engine.close();
  }
});
