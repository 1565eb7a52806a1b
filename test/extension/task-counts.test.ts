import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ActiveTaskTracker, statusBarView } from '../../src/extension/presenters/task-counts.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

let fx: EngineFixture;
before(async () => {
  fx = await openEngine({ concurrency: 1 });
});
after(async () => fx.close());

test('the status bar follows a real engine: running, queued and waiting counts, hidden when idle', async () => {
  const tracker = new ActiveTaskTracker();
  const sub = fx.engine.onEvent((e) => tracker.apply(e));
  assert.equal(statusBarView(tracker.counts()).visible, false, 'hidden before anything runs');

  // One slot: `a` runs while `b` queues; `gate` waits for a signal.
  const { runId } = await fx.engine.launch({
    workflow: workflow(
      'name: sb\ntasks:\n  a:\n    run: sleep 0.4\n  b:\n    run: sleep 0.1\n  gate:\n    wait: approve\n  last:\n    needs: [a, b, gate]\n    run: "true"\n',
    ),
  });
  await fx.next('task.started', (e) => e.task.runId === runId);
  await fx.next('task.waiting', (e) => e.task.runId === runId);
  assert.deepEqual(tracker.counts(), { running: 1, queued: 1, waiting: 1, pending: 1 });
  const busy = statusBarView(tracker.counts());
  assert.equal(busy.visible, true);
  assert.equal(busy.text, '$(sync~spin) 1 running · 1 queued · 1 waiting');
  assert.match(busy.tooltip, /1 waiting for other tasks/);

  await fx.next('task.completed', (e) => e.task.key === 'b' && e.task.runId === runId);
  assert.deepEqual(tracker.counts(), { running: 0, queued: 0, waiting: 1, pending: 1 });
  assert.equal(statusBarView(tracker.counts()).text, '$(bell) 1 waiting', 'only a signal is awaited');

  await fx.engine.signal(`${runId}.gate`, 'ok');
  await fx.next('workflow.completed', (e) => e.run.id === runId);
  assert.deepEqual(tracker.counts(), { running: 0, queued: 0, waiting: 0, pending: 0 });
  assert.equal(statusBarView(tracker.counts()).visible, false, 'hidden again when idle');
  sub.dispose();
});

test('seeding from the store counts what was unfinished before the window opened', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow('name: seed\ntasks:\n  hold:\n    wait: true\n') });
  await fx.next('task.waiting', (e) => e.task.runId === runId);
  const tracker = new ActiveTaskTracker();
  const { runs } = await fx.engine.list({ states: ['running'] });
  for (const run of runs) tracker.seed((await fx.engine.status(run.id)).tasks);
  assert.equal(tracker.counts().waiting, 1);
  assert.equal(statusBarView(tracker.counts(), true).tooltip.includes('Read-only'), true, 'a read-only window says so');
  const cancelled = fx.next('workflow.cancelled', (e) => e.run.id === runId);
  await fx.engine.cancel(runId);
  for (const e of fx.events.filter((e) => e.type === 'task.cancelled')) tracker.apply(e);
  await cancelled;
  assert.equal(tracker.counts().waiting, 0);
  assert.equal(tracker.has(`${runId}.hold`), true, 'remembers tasks it saw finish, so a stale seed cannot revive them');
});

test('while storage is paused the status bar shows it as a warning with the reason, even with nothing running', () => {
  const none = { running: 0, queued: 0, waiting: 0, pending: 0 };
  const idle = statusBarView(none, false, 'ENOSPC: no space left on device, write (journal in /s/journal)');
  assert.equal(idle.visible, true);
  assert.equal(idle.warning, true);
  assert.equal(idle.text, '$(warning) disk full, paused');
  assert.match(idle.tooltip, /new work is paused until space is freed[\s\S]*ENOSPC: no space left on device/);
  assert.equal(statusBarView({ ...none, running: 2 }, false, 'ENOSPC').text, '$(warning) disk full, paused · 2 running');
  assert.equal(statusBarView({ ...none, running: 2 }).warning, false);
});
