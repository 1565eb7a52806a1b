import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { clearFinishedQuestion, retryMessage, retryScope } from '../../src/extension/presenters/confirmations.ts';

function task(key: string, state: TaskRecord['state'], needs: string[] = []): TaskRecord {
  return { id: `run1.${key}`, runId: 'run1', key, name: key, state, needs } as unknown as TaskRecord;
}
const run = { id: 'run1abcdef', name: 'deploy', single: false } as RunRecord;

test('retry names what it restarts: the failed task and its skipped dependents, not the rest', () => {
  const tasks = [task('build', 'completed'), task('check', 'failed', ['build']), task('ship', 'skipped', ['check']), task('lint', 'cancelled')];
  assert.deepEqual(
    retryScope(tasks, 'run1.check').map((t) => t.key),
    ['check', 'ship'],
  );
  assert.deepEqual(
    retryScope(tasks).map((t) => t.key),
    ['check', 'ship', 'lint'],
  );
  assert.equal(retryMessage(run, retryScope(tasks, 'run1.check')), 'Orchestr8: retrying check, ship of deploy (run run1…).');
  const many = Array.from({ length: 5 }, (_, i) => task(`t${i}`, 'failed'));
  assert.equal(retryMessage(run, many), 'Orchestr8: retrying 5 tasks of deploy (run run1…).');
  assert.equal(retryMessage({ ...run, single: true, name: 'scribe: notes' }, many.slice(0, 1)), 'Orchestr8: retrying scribe: notes (run run1…).');
});

test('Clear Finished Runs says how many of each it removes, and what stays', () => {
  const text = clearFinishedQuestion({ completed: 10, failed: 2, cancelled: 0 });
  assert.match(text, /^Remove 12 finished runs \(10 completed, 2 failed\) from the history/);
  assert.match(text, /Running runs stay/);
  assert.match(clearFinishedQuestion({ completed: 0, failed: 0, cancelled: 1 }), /^Remove 1 finished run \(1 cancelled\)/);
});
