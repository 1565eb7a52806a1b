import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateDb } from '../../src/core/store/state-db.ts';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import type { SequencedRecord } from '../../src/core/store/store-records.ts';
import { splitTaskId, type TaskId } from '../../src/core/util/ids.ts';

const run = (id: string): RunRecord => ({ id, name: `run ${id}`, inputs: {}, state: 'running', single: false, cwd: '/tmp', createdAt: 1 });

/**
 * How many statements sql.js holds prepared (and unfreed) on the connection. It keeps them in a
 * map on the Database (`statements`, renamed by minification): found as the one holding a probe.
 */
function liveStatements(db: StateDb): number {
  const probe = db.db.prepare('SELECT 1');
  const map = Object.values(db.db).find((v): v is object => typeof v === 'object' && v !== null && Object.values(v).includes(probe));
  probe.free();
  assert.ok(map, "sql.js's statement map");
  return Object.keys(map).length;
}

test('export keeps the connection and its prepared statements: repeated snapshots leak none', async () => {
  const db = await StateDb.open();
  db.apply([{ seq: 1, record: { t: 'run', run: run('a') } }]);
  assert.equal(db.getRun('a')?.name, 'run a');
  const before = liveStatements(db);
  for (let i = 0; i < 5; i++) {
    const bytes = db.export();
    assert.ok(bytes.length > 0);
    db.apply([{ seq: i + 2, record: { t: 'run', run: run(`r${i}`) } }]);
    assert.equal(db.getRun(`r${i}`)?.name, `run r${i}`, 'a cached statement still works after export');
  }
  assert.equal(liveStatements(db), before);
  const copy = await StateDb.open(db.export());
  assert.equal(copy.listRuns(10, 0).total, 6);
  copy.close();
  db.close();
});

const task = (id: TaskId, extra: Partial<TaskRecord> = {}): TaskRecord => ({
  id, ...splitTaskId(id)!, name: id, action: { kind: 'run', run: 'make' }, needs: [], state: 'queued',
  priority: 0, order: 0, attempt: 0, retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false }, continueOnError: false, updatedAt: 1, ...extra,
});

test('patches merge into the stored row: set fields change, unset fields go, the rest stays; applying one again changes nothing', async () => {
  const db = await StateDb.open();
  db.apply([{ seq: 1, record: { t: 'task', task: task('r.a', { pid: 42, owner: 7 }) } }]);
  const start: SequencedRecord = { seq: 2, record: { t: 'task-patch', id: 'r.a', set: { state: 'running', attempt: 1, startedAt: 5 } } };
  const done: SequencedRecord = { seq: 3, record: { t: 'task-patch', id: 'r.a', set: { state: 'completed', finishedAt: 9 }, unset: ['pid', 'owner'] } };
  db.apply([start]);
  db.apply([done]);
  const expected = { ...task('r.a'), state: 'completed', attempt: 1, startedAt: 5, finishedAt: 9 };
  assert.deepEqual(db.getTask('r.a'), expected);
  // Replayed (a reader that read them already, a snapshot that holds them): skipped by seq, and harmless if not.
  db.apply([start, done]);
  assert.deepEqual(db.getTask('r.a'), expected);
  const fresh = await StateDb.open();
  fresh.apply([{ seq: 1, record: { t: 'task', task: task('r.a', { pid: 42, owner: 7 }) } }, done, { ...done, seq: 4 }]);
  assert.deepEqual(fresh.getTask('r.a'), { ...task('r.a'), state: 'completed', finishedAt: 9 });
  fresh.close();
  db.close();
});

test('a row created and patched in one batch is written once, as the patches leave it; a run is patched like a task', async () => {
  const db = await StateDb.open();
  db.defer([
    { seq: 1, record: { t: 'run', run: run('r') } },
    { seq: 2, record: { t: 'task', task: task('r.a') } },
    { seq: 3, record: { t: 'task-patch', id: 'r.a', set: { state: 'running', attempt: 1 } } },
    { seq: 4, record: { t: 'task-patch', id: 'r.a', set: { state: 'completed' } } },
    { seq: 5, record: { t: 'run-patch', id: 'r', set: { state: 'completed', finishedAt: 6 } } },
  ]);
  assert.equal(db.getTask('r.a')?.state, 'completed', 'a query catches up first');
  assert.equal(db.getTask('r.a')?.attempt, 1);
  assert.deepEqual(db.getRun('r'), { ...run('r'), state: 'completed', finishedAt: 6 });
  assert.deepEqual(db.finishedRunIds(7), ['r'], 'the columns follow the patched row');
  assert.equal(db.lastSeq, 5);
  db.close();
});

test('a patch of a removed run (or of a row deleted earlier in its batch) changes nothing and fails nothing', async () => {
  const db = await StateDb.open();
  db.apply([
    { seq: 1, record: { t: 'run', run: run('r') } },
    { seq: 2, record: { t: 'task', task: task('r.a') } },
    { seq: 3, record: { t: 'task-patch', id: 'r.a', set: { state: 'running' } } },
    { seq: 4, record: { t: 'delete-runs', runIds: ['r'] } },
    { seq: 5, record: { t: 'task-patch', id: 'r.a', set: { state: 'completed' } } },
    { seq: 6, record: { t: 'run-patch', id: 'r', set: { state: 'completed' } } },
  ]);
  assert.equal(db.getTask('r.a'), undefined);
  assert.equal(db.getRun('r'), undefined);
  assert.equal(db.lastSeq, 6);
  db.close();
});
