import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { NotificationRecord, TaskRecord } from '../../src/core/model/records.ts';
import {
  awaySummary,
  startedMessage,
  storageToast,
  taskFailedToast,
  toNotificationLevel,
  wanted,
  workflowToast,
} from '../../src/extension/presenters/notification-policy.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

let fx: EngineFixture;
before(async () => {
  fx = await openEngine();
});
after(async () => fx.close());

const OK = 'name: ok-flow\ntasks:\n  a:\n    run: echo done\n';
const BROKEN = 'name: broken-flow\ntasks:\n  build:\n    run: echo compiling && exit 2\n  ship:\n    needs: build\n    run: echo never\n';

test('"Started …" names the workflow and a short run id', () => {
  assert.equal(startedMessage('add-feature', '4f2c1a2b3c4d'), 'Started add-feature (run 4f2c…)');
});

test('a completed workflow toasts at "all" with Open Result, and stays quiet at "failures" and "none"', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow(OK) });
  const { run } = await fx.next('workflow.completed', (e) => e.run.id === runId);
  const toast = workflowToast(run, [], 'all');
  assert.ok(toast);
  assert.equal(toast.severity, 'info');
  assert.match(toast.message, new RegExp(`^ok-flow \\(run ${runId.slice(0, 4)}…\\) completed in \\S+\\.$`));
  assert.deepEqual(
    toast.actions.map((a) => a.title),
    ['Open Result'],
  );
  assert.deepEqual(toast.actions[0]!.args, [{ runId }]);
  assert.equal(workflowToast(run, [], 'failures'), undefined);
  assert.equal(workflowToast(run, [], 'none'), undefined);

  const withPr = await fx.engine.recordDelivery(runId, { pullRequest: { url: 'https://git.example/o/r/pull/3', number: 3 } });
  assert.deepEqual(
    workflowToast(withPr, [], 'all')!.actions.map((a) => a.title),
    ['Open Result', 'Open Pull Request'],
  );
});

test('a failed workflow toasts at "failures" with Show Log on the failed task, Retry and Open Result', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow(BROKEN) });
  const { run } = await fx.next('workflow.failed', (e) => e.run.id === runId);
  const { tasks } = await fx.engine.status(runId);
  const toast = workflowToast(run, tasks, 'failures');
  assert.ok(toast);
  assert.equal(toast.severity, 'error');
  assert.match(toast.message, /broken-flow \(run [0-9a-f]{4}…\) failed: /);
  assert.deepEqual(
    toast.actions.map((a) => [a.title, a.command]),
    [
      ['Show Log', 'orchestr8.showLog'],
      ['Retry', 'orchestr8.retry'],
      ['Open Result', 'orchestr8.openResult'],
    ],
  );
  assert.deepEqual(toast.actions[0]!.args, [{ runId, taskId: `${runId}.build` }]);
  assert.equal(workflowToast(run, tasks, 'none'), undefined);

  const failed = await fx.next('task.failed', (e) => e.task.runId === runId);
  const taskToast = taskFailedToast(run, failed.task, failed.error, 'failures');
  assert.ok(taskToast);
  assert.match(taskToast.message, /^Task build of broken-flow \(run [0-9a-f]{4}…\) failed: exited with code 2/);
  assert.deepEqual(
    taskToast.actions.map((a) => a.title),
    ['Show Log', 'Retry'],
  );
  assert.equal(taskFailedToast(run, failed.task, failed.error, 'none'), undefined);
});

test("a task failed by a merge conflict: its toast and its run's offer Resolve Merge Conflict… first, on that task", () => {
  const run = { id: 'r1', name: 'flow', inputs: {}, state: 'failed' as const, single: false, cwd: '/', createdAt: 0, finishedAt: 1000 };
  const mergeConflict = { files: ['a.ts'], taskBranch: 'o/r--t', worktree: '/w/t', runBranch: 'o/r', runWorktree: '/w' };
  const task: TaskRecord = {
    id: 'r1.t',
    runId: 'r1',
    key: 't',
    name: 't',
    action: { kind: 'run', run: 'true' },
    needs: [],
    state: 'failed',
    priority: 0,
    order: 0,
    attempt: 1,
    retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
    continueOnError: false,
    updatedAt: 0,
    error: 'merge conflict',
    mergeConflict,
  };
  const resolve = { title: 'Resolve Merge Conflict…', command: 'orchestr8.resolveMergeConflict', args: [{ runId: 'r1', taskId: 'r1.t' }] };
  assert.deepEqual(taskFailedToast(run, task, 'merge conflict', 'failures')!.actions, [
    resolve,
    { title: 'Show Log', command: 'orchestr8.showLog', args: [{ runId: 'r1', taskId: 'r1.t' }] },
    { title: 'Retry', command: 'orchestr8.retry', args: [{ runId: 'r1', taskId: 'r1.t' }] },
  ]);
  assert.deepEqual(
    workflowToast(run, [task], 'failures')!.actions.map((a) => a.title),
    ['Resolve Merge Conflict…', 'Show Log', 'Retry', 'Open Result'],
  );
  assert.deepEqual(workflowToast(run, [task], 'failures')!.actions[0], resolve);
  const { mergeConflict: _, ...plain } = task;
  // Another task failed first: the run's toast (which stands for both) still offers the resolution.
  const first: TaskRecord = { ...plain, id: 'r1.a', key: 'a', name: 'a', order: -1 };
  assert.deepEqual(
    workflowToast(run, [first, task], 'failures')!.actions.map((a) => [a.title, a.args]),
    [
      ['Resolve Merge Conflict…', [{ runId: 'r1', taskId: 'r1.t' }]],
      ['Show Log', [{ runId: 'r1', taskId: 'r1.a' }]],
      ['Retry', [{ runId: 'r1' }]],
      ['Open Result', [{ runId: 'r1' }]],
    ],
  );
  assert.deepEqual(
    taskFailedToast(run, plain, 'boom', 'failures')!.actions.map((a) => a.title),
    ['Show Log', 'Retry'],
  );
});

test('"While you were away" sums up the store’s undelivered notifications, one line per run', async () => {
  const missed = await fx.engine.undeliveredNotifications();
  const kinds = missed.map((n) => n.kind).sort();
  assert.deepEqual(kinds, ['task.failed', 'workflow.completed', 'workflow.failed'], 'the engine recorded these');
  const summary = awaySummary(missed, 'all');
  assert.ok(summary);
  assert.equal(summary.severity, 'error', 'a failure makes the summary an error');
  // broken-flow's task failure folds into its run's failure.
  assert.equal(summary.message.split(';').length, 2, summary.message);
  assert.match(summary.message, /^While you were away: .*ok-flow.*; .*broken-flow.*\.$/);
  assert.deepEqual(
    summary.actions.map((a) => a.title),
    ['Show Runs'],
  );

  const failuresOnly = awaySummary(missed, 'failures');
  assert.ok(failuresOnly);
  assert.doesNotMatch(failuresOnly.message, /ok-flow/);
  assert.deepEqual(
    failuresOnly.actions.map((a) => a.title),
    ['Open Result', 'Show Runs'],
    'one entry: a direct action to it',
  );
  assert.equal(awaySummary(missed, 'none'), undefined);

  await fx.engine.markDelivered(missed.map((n) => n.id));
  assert.deepEqual(await fx.engine.undeliveredNotifications(), [], 'marked delivered, never summarised twice');
});

test('many missed notifications are counted rather than listed', () => {
  const n = (kind: NotificationRecord['kind'], i: number): NotificationRecord => ({
    id: `n${i}`,
    runId: `r${i}`,
    kind,
    title: `run ${i}`,
    body: '',
    createdAt: i,
  });
  const records = [n('workflow.completed', 1), n('workflow.completed', 2), n('workflow.failed', 3), n('workflow.cancelled', 4), n('task.failed', 5)];
  assert.equal(awaySummary(records, 'all')!.message, 'While you were away: 2 workflows completed, 1 workflow failed, 1 workflow cancelled, 1 task failed.');
  assert.equal(wanted(records[3]!, 'failures'), false);
});

test('an unknown setting value falls back to "all"', () => {
  assert.equal(toNotificationLevel('failures'), 'failures');
  assert.equal(toNotificationLevel('loud'), 'all');
  assert.equal(toNotificationLevel(undefined), 'all');
});

test('a paused storage warns that work waits for space and why; resuming says so', () => {
  const paused = storageToast('paused', 'ENOSPC: no space left on device, write (journal in /s/journal)');
  assert.equal(paused.severity, 'warning');
  assert.match(paused.message, /disk full, work is paused until space is freed.*\(ENOSPC: no space left on device/);
  const resumed = storageToast('resumed', 'writes succeed again after 3 s; work resumes');
  assert.equal(resumed.severity, 'info');
  assert.equal(resumed.message, 'Orchestr8: storage writes succeed again after 3 s; work resumes.');
});
