import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { RowShadow } from '../../src/core/store/row-shadow.ts';
import { StateDb } from '../../src/core/store/state-db.ts';
import type { StoreRecord } from '../../src/core/store/store-records.ts';

const run: RunRecord = { id: 'r', name: 'r', inputs: {}, state: 'running', single: false, cwd: '/tmp', createdAt: 1 };
const task: TaskRecord = {
  id: 'r.a',
  runId: 'r',
  key: 'a',
  name: 'a',
  action: { kind: 'run', run: 'make' },
  needs: [],
  state: 'queued',
  priority: 0,
  order: 0,
  attempt: 0,
  retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
  continueOnError: false,
  updatedAt: 1,
};

test('a row is recorded whole the first time, then as what changed; the database ends where whole rows would have left it', async () => {
  const shadow = new RowShadow();
  const started: TaskRecord = { ...task, state: 'running', attempt: 1, startedAt: 2, pid: 9, updatedAt: 2 };
  const done: TaskRecord = { ...started, state: 'completed', finishedAt: 3, pid: undefined, updatedAt: 3 };
  const whole: StoreRecord[] = [
    { t: 'run', run },
    { t: 'task', task },
    { t: 'task', task: started },
    { t: 'task', task: done },
    { t: 'run', run: { ...run, state: 'completed', finishedAt: 3 } },
  ];
  const compact = whole.map((r) => shadow.compact(r));
  assert.deepEqual(
    compact.map((r) => r.t),
    ['run', 'task', 'task-patch', 'task-patch', 'run-patch'],
  );
  assert.deepEqual(compact[3], { t: 'task-patch', id: 'r.a', set: { state: 'completed', finishedAt: 3, updatedAt: 3 }, unset: ['pid'] });
  const [a, b] = [await StateDb.open(), await StateDb.open()];
  a.apply(whole.map((record, i) => ({ seq: i + 1, record })));
  b.apply(compact.map((record, i) => ({ seq: i + 1, record })));
  assert.deepEqual(b.getTask('r.a'), a.getTask('r.a'));
  assert.deepEqual(b.getRun('r'), a.getRun('r'));
  a.close();
  b.close();
});

test('a forgotten or removed run is recorded whole again; an unchanged row keeps its place as an empty patch', () => {
  const shadow = new RowShadow();
  shadow.compact({ t: 'task', task });
  assert.deepEqual(shadow.compact({ t: 'task', task: { ...task } }), { t: 'task-patch', id: 'r.a', set: {} });
  shadow.forgetRun('r');
  assert.equal(shadow.compact({ t: 'task', task }).t, 'task');
  shadow.compact({ t: 'delete-runs', runIds: ['r'] });
  assert.equal(shadow.compact({ t: 'task', task }).t, 'task');
});
