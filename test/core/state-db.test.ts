import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StateDb } from '../../src/core/store/state-db.ts';
import type { RunRecord } from '../../src/core/model/records.ts';

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
