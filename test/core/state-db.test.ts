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
  id,
  ...splitTaskId(id)!,
  name: id,
  action: { kind: 'run', run: 'make' },
  needs: [],
  state: 'queued',
  priority: 0,
  order: 0,
  attempt: 0,
  retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
  continueOnError: false,
  updatedAt: 1,
  ...extra,
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

test('removing runs deletes their event rows with the rest of their rows, in the transaction that removes them', async () => {
  const db = await StateDb.open();
  const event = (seq: number, runId: string, type = 'task.started'): SequencedRecord => ({
    seq,
    record: { t: 'event', event: { type, at: seq, runId, taskId: `${runId}.a` } },
  });
  db.apply([{ seq: 1, record: { t: 'run', run: run('gone') } }, { seq: 2, record: { t: 'run', run: run('kept') } }, event(3, 'gone'), event(4, 'kept')]);
  // Events of the removed run heard in the very batch that removes it go too.
  db.apply([
    event(5, 'gone', 'task.completed'),
    { seq: 6, record: { t: 'delete-runs', runIds: ['gone'] } },
    { seq: 7, record: { t: 'event', event: { type: 'workflow.removed', at: 7, detail: 'gone' } } },
  ]);
  assert.deepEqual(
    db.eventsAfter(0).map((e) => `${e.seq} ${e.type} ${e.runId ?? '-'}`),
    ['4 task.started kept', '7 workflow.removed -'],
  );
  assert.equal(db.getRun('gone'), undefined);
  // A batch that fails midway leaves the events where they were (one transaction).
  assert.throws(() =>
    db.apply([
      { seq: 8, record: { t: 'delete-runs', runIds: ['kept'] } },
      { seq: 9, record: { t: 'run', run: { ...run('bad'), name: null as unknown as string } } },
    ]),
  );
  assert.deepEqual(
    db.eventsAfter(0).map((e) => e.seq),
    [4, 7],
  );
  assert.equal(db.getRun('kept')?.name, 'run kept');
  db.close();
});

test('a snapshot written before task_executions.retry_count was dropped opens, migrates and takes new rows', async () => {
  // Built as schema version 2 made it (the column NOT NULL), with a task row in it.
  const old = await StateDb.open();
  old.db.run('DROP TABLE task_executions; DELETE FROM schema_migrations WHERE version > 2');
  old.db.run(
    'CREATE TABLE task_executions (id TEXT PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, retry_count INTEGER NOT NULL, ord INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL); CREATE INDEX task_executions_run ON task_executions (run_id, ord)',
  );
  old.db.run('INSERT INTO task_executions VALUES (?, ?, ?, ?, ?, ?, ?, ?)', ['r.a', 'r', 'a', 'queued', 0, 0, 1, JSON.stringify(task('r.a'))]);
  const bytes = old.export();
  old.close();

  const db = await StateDb.open(bytes);
  const columns = db.db.exec("SELECT name FROM pragma_table_info('task_executions')")[0]!.values.flat();
  assert.equal(columns.includes('retry_count'), false);
  assert.deepEqual(db.getTask('r.a'), task('r.a'));
  db.apply([{ seq: 1, record: { t: 'task', task: task('r.b', { attempt: 3, order: 1 }) } }]);
  assert.deepEqual(
    db.getTasks('r').map((t) => `${t.key}:${t.attempt}`),
    ['a:0', 'b:3'],
  );
  db.close();
});
