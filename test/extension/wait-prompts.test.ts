import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { answeredMessage, answerPrompt, waitToast } from '../../src/extension/presenters/wait-prompts.ts';
import { taskId } from '../../src/core/util/ids.ts';

const run = { id: '4f2c0a1b9e7d', name: 'release', single: false } as RunRecord;
const task = {
  id: taskId(run.id, 'approve'),
  runId: run.id,
  key: 'approve',
  name: 'approve',
  state: 'waiting',
  action: { kind: 'wait', message: 'Ship ${tasks.build.result}?' },
} as TaskRecord;

test('the toast announcing a wait asks its question and offers Approve… and Reject… on that task', () => {
  const view = waitToast(run, task, 'Ship v1.2.3?', 'failures')!;
  assert.equal(view.message, 'release (run 4f2c…) waits for you at approve: Ship v1.2.3?');
  assert.equal(view.severity, 'warning');
  assert.deepEqual(view.actions, [
    { title: 'Approve…', command: 'orchestr8.approveWait', args: [{ runId: run.id, taskId: task.id }] },
    { title: 'Reject…', command: 'orchestr8.rejectWait', args: [{ runId: run.id, taskId: task.id }] },
  ]);
  assert.equal(waitToast(run, task, 'Ship v1.2.3?', 'none'), undefined, 'only "none" silences it: the run is stuck until someone answers');
});

test('the input box says what the payload or reason does; the confirmation says what was answered', () => {
  const approve = answerPrompt('approve', task, 'Ship v1.2.3?');
  assert.equal(approve.title, 'Approve approve: Ship v1.2.3?');
  assert.match(approve.prompt, /becomes approve's result \(\$\{tasks\.approve\.result\}\)/);
  assert.match(answerPrompt('reject', task, 'Ship v1.2.3?').prompt, /fails with it and the tasks that need it are skipped/);
  assert.equal(answeredMessage('approve', run, task, 'go'), 'Orchestr8: approved approve of release (run 4f2c…) with “go”.');
  assert.equal(answeredMessage('reject', run, task, 'tests are red'), 'Orchestr8: rejected approve of release (run 4f2c…): tests are red.');
  assert.equal(answeredMessage('approve', run, task, ''), 'Orchestr8: approved approve of release (run 4f2c…).');
});
