import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Engine } from '../../src/core/engine/engine.ts';
import type { StateStore } from '../../src/core/store/state-store.ts';
import type { StoreRecord } from '../../src/core/store/store-records.ts';
import { StateStore as Store } from '../../src/core/store/state-store.ts';
import { LineProcess } from '../support/line-process.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { stillHolds } from '../support/until.ts';

/**
 * Holds back the first store commit whose records match until `release()`: the window in
 * which a batch is queued but not yet durable, made as long as the test needs.
 */
function holdCommit(engine: Engine, match: (records: StoreRecord[]) => boolean): { held: Promise<void>; release(): void } {
  const store = (engine as unknown as { store: StateStore }).store;
  const commit = store.commit.bind(store);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let onHeld!: () => void;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  let armed = true;
  after(release); // a failed assertion must not leave the engine's close waiting on the held write
  store.commit = async (records) => {
    if (armed && match(records)) {
      armed = false;
      onHeld();
      await released;
    }
    return commit(records);
  };
  return { held, release };
}

const finishesRun = (records: StoreRecord[]) => records.some((r) => r.t === 'event' && /^workflow\.(completed|failed|cancelled)$/.test(r.event.type));
const launchesRun = (records: StoreRecord[]) => records.some((r) => r.t === 'event' && r.event.type === 'workflow.launched');

test('a finished run stays active until the batch finishing it is durable: count, list and status agree with the disk', async () => {
  const { engine } = await openEngine();
  const hold = holdCommit(engine, finishesRun);
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'noop' } } });
  await hold.held;

  assert.equal(engine.activeRunCount, 1, 'the finish is not durable: the run is still active');
  assert.equal((await engine.list()).runs.find((r) => r.id === runId)?.state, 'running');
  assert.equal((await engine.task(taskIds[0]!)).state, 'running');
  // A command on it waits for the finish to be durable, then answers from it.
  let answered = false;
  const cancelled = engine.cancel(runId).finally(() => (answered = true));
  // Nothing follows while the commit is held, so a bounded check: a command that did not wait
  // for it would answer from memory within a few turns of the event loop, well inside 50 ms.
  await stillHolds('the cancel waits for the finish, and the run stays active', () => !answered && engine.activeRunCount === 1, 50);

  hold.release();
  await assert.rejects(cancelled, /is completed; nothing to cancel/);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal(engine.activeRunCount, 0);
});

test('a run being launched is not dispatched, listed or cancellable before its launch is durable', async () => {
  const { engine } = await openEngine();
  const hold = holdCommit(engine, launchesRun);
  const launched = engine.launch({ id: 'r1', task: { action: { kind: 'noop' } } });
  await hold.held;
  assert.deepEqual((await engine.list()).runs, []);
  await assert.rejects(engine.cancel('r1'), /no run r1/);
  await assert.rejects(engine.launch({ id: 'r1', task: { action: { kind: 'noop' } } }), /exists already/);
  assert.equal(engine.activeRunCount, 1, 'counted while its launch is written, so an owner that stops at zero leaves nothing behind');
  hold.release();
  const { runId } = await launched;
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal(engine.activeRunCount, 0);
});

test('SIGKILL after a run finished in memory but before that was durable: the next owner finishes it, nothing left running', { timeout: 60_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const request = { task: { action: { kind: 'run' as const, run: 'echo hello' }, retries: 0 } };
  const child = LineProcess.start('owner', 'test/support/owner-child.ts', [stateDir, cwd, JSON.stringify(request)], { ORCHESTR8_CRASH_AT: 'run.finishing' });
  const runId = (JSON.parse(await child.waitFor(/"launched"/)) as { launched: string }).launched;
  await child.exited;
  assert.equal(child.child.signalCode, 'SIGKILL', `the owner died at the crash point\n${child.errorOutput}`);
  assert.ok(!child.lines.some((l) => l.includes('workflow.completed')), 'nobody heard of the finish');

  const reader = await Store.openReader(stateDir);
  try {
    assert.equal((await reader.index.getRun(runId))?.state, 'running', 'the finish never reached the disk');
  } finally {
    await reader.close();
  }

  const { engine } = await openEngine({ stateDir, cwd });
  const run = await runFinished(engine, runId);
  assert.equal(run.state, 'completed', 'the interrupted run completes, not fails');
  const task = await engine.task(`${runId}.task`);
  assert.equal(task.state, 'completed');
  assert.equal(task.attempt, 1, 'the interruption spent no attempt');
  assert.equal(task.interruptions, 1);
  assert.equal(engine.activeRunCount, 0);
  assert.deepEqual((await engine.list({ states: ['running'] })).runs, []);
});
