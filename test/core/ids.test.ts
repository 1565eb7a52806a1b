import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTaskId, newRunId, runIdOf, splitTaskId, taskId } from '../../src/core/util/ids.ts';

test('a task id joins its run id and key, and splits back at the first dot', () => {
  const run = newRunId();
  assert.doesNotMatch(run, /\./, 'a run id has no dot, so the first dot of a task id is the split');
  const id = taskId(run, 'build.docs');
  assert.equal(id, `${run}.build.docs`);
  assert.deepEqual(splitTaskId(id), { runId: run, key: 'build.docs' });
  assert.equal(runIdOf(id), run);
});

test('ids as typed: a run id (or its prefix) names a run, anything else a task', () => {
  for (const runId of ['4f2c1a2b3c4d', '4f2c']) {
    assert.equal(isTaskId(runId), false);
    assert.equal(runIdOf(runId), runId);
    assert.equal(splitTaskId(runId), undefined);
  }
  assert.equal(isTaskId('4f2c.lint'), true, 'a prefix of the run id still names a task');
  assert.equal(runIdOf('4f2c.lint'), '4f2c');
  for (const malformed of ['.lint', '4f2c.']) assert.equal(isTaskId(malformed), false, malformed);
});
