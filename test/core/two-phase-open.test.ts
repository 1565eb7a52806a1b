import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import type { RunState, TaskState } from '../../src/core/model/task-state.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';
import { activeSidecarPath } from '../../src/core/store/active-sidecar.ts';
import { ActiveFold, activeStateFromQueries } from '../../src/core/store/active-state.ts';
import { listSnapshots } from '../../src/core/store/snapshot-files.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import type { StoreRecord } from '../../src/core/store/store-records.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';

const run = (id: string, state: RunState, createdAt: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  id,
  name: id,
  inputs: {},
  state,
  single: false,
  cwd: '/tmp',
  createdAt,
  ...extra,
});
const task = (runId: string, key: string, state: TaskState, order: number): TaskRecord => ({
  id: `${runId}.${key}`,
  runId,
  key,
  name: key,
  action: { kind: 'noop' },
  needs: [],
  state,
  priority: 0,
  order,
  attempt: state === 'queued' ? 0 : 1,
  retry: DEFAULT_RETRY,
  continueOnError: false,
  updatedAt: order,
});
const ids = (state: { runs: { run: RunRecord }[] }) => state.runs.map((r) => r.run.id);

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * 50 finished runs of history, `a` running (one task done, one queued) and `b` finished but not
 * finalized, all in a snapshot; then, in the journal after it: `c` launched, `a`'s queued task
 * started, `b` finalized, `h1` cleared.
 */
async function folderWithActiveRuns(dir: string, after: StoreRecord[] = []): Promise<void> {
  const store = await StateStore.openOwner(dir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  for (let i = 1; i <= 50; i++)
    await store.commit([
      { t: 'run', run: run(`h${i}`, 'completed', i, { finalized: true }) },
      { t: 'task', task: task(`h${i}`, 't', 'completed', 0) },
    ]);
  await store.commit([
    { t: 'run', run: run('a', 'running', 100) },
    { t: 'task', task: task('a', 't1', 'completed', 0) },
    { t: 'task', task: task('a', 't2', 'queued', 1) },
  ]);
  await store.commit([
    { t: 'run', run: run('b', 'failed', 101, { finalized: false }) },
    { t: 'task', task: task('b', 't1', 'failed', 0) },
  ]);
  await store.snapshot();
  await store.commit([
    { t: 'run', run: run('c', 'running', 200) },
    { t: 'task', task: task('c', 't1', 'running', 0) },
  ]);
  await store.commit([{ t: 'task-patch', id: 'a.t2', set: { state: 'running', attempt: 1 } }]);
  await store.commit([{ t: 'run-patch', id: 'b', set: { finalized: true } }]);
  await store.commit([{ t: 'delete-runs', runIds: ['h1'] }]);
  if (after.length) await store.commit(after);
  await store.close();
}

test('an owner takes work before its history is loaded: the active runs from the sidecar and the journal after it are those the full load gives', async () => {
  const dir = tempDir();
  await folderWithActiveRuns(dir);
  const snapshot = listSnapshots(dir)[0]!;
  assert.ok(fs.existsSync(activeSidecarPath(snapshot.path)), 'the snapshot was written with its active-set sidecar');

  const logger = recordingLogger();
  const store = await StateStore.openOwner(dir, { logger });
  assert.ok(
    logger.lines.some((l) => l.startsWith('debug open: taking work at seq')),
    `opened in two phases (${logger.lines.join(' | ')})`,
  );
  const quick = await store.activeState();
  assert.deepEqual(ids(quick), ['a', 'c']);
  assert.equal(quick.runs[0]!.tasks.find((t) => t.key === 't2')?.state, 'running', 'the patch after the snapshot is carried');

  // Read-your-writes across the load: batches committed while it runs are applied after it, in order.
  let loaded = false;
  void store.index.loaded.then(() => (loaded = true));
  await Promise.all([1, 2, 3].map((i) => store.commit([{ t: 'run', run: run(`n${i}`, 'completed', 300 + i, { finalized: true }) }])));
  const asked = store.index.getRun('n3');
  assert.equal(loaded, false, 'the commits were acknowledged before the history was loaded');
  assert.equal((await asked)?.name, 'n3');
  assert.deepEqual(quick, await activeStateFromQueries(store.index), 'the quick active state is the one the loaded index answers');
  assert.equal((await store.index.getRun('h50'))?.state, 'completed', 'the history is there');
  assert.equal(await store.index.getRun('h1'), undefined, 'and its clearing');
  assert.equal((await store.index.listRuns(1, 0)).total, 49 + 3 + 3);
  await store.close();
  // What was committed during the load survives a reopen.
  const again = await StateStore.openOwner(dir);
  assert.deepEqual(ids(await again.activeState()), ['a', 'c']);
  assert.equal((await again.index.getRun('n2'))?.state, 'completed');
  await again.close();
});

test('a record the fold cannot place (a finished run of the history changed again) makes the owner wait for the full load', async () => {
  const dir = tempDir();
  // h2 is retried by an owner that still held its rows: a patch of a row the sidecar does not have.
  await folderWithActiveRuns(dir, [{ t: 'run-patch', id: 'h2', set: { state: 'running' }, unset: ['finalized'] }]);
  const logger = recordingLogger();
  const store = await StateStore.openOwner(dir, { logger });
  assert.ok(
    logger.lines.some((l) => l.includes('run h2 is patched but not known; waiting for the full load')),
    logger.lines.join(' | '),
  );
  assert.deepEqual(ids(await store.activeState()), ['h2', 'a', 'c']);
  await store.close();
});

test('a damaged or missing active-set sidecar costs only the quick open: the owner loads everything first, and nothing is wrong', async () => {
  for (const damage of [(file: string) => fs.writeFileSync(file, Buffer.from('x'.repeat(80))), (file: string) => fs.rmSync(file)]) {
    const dir = tempDir();
    await folderWithActiveRuns(dir);
    damage(activeSidecarPath(listSnapshots(dir)[0]!.path));
    const logger = recordingLogger();
    const store = await StateStore.openOwner(dir, { logger });
    assert.ok(
      logger.lines.some((l) => /^info snapshot .*(sha256|no active-set sidecar).*waiting for the full load/.test(l)),
      logger.lines.join(' | '),
    );
    assert.deepEqual(ids(await store.activeState()), ['a', 'c']);
    await store.close();
  }
});

test('the fold: launches after the snapshot are known whole; a whole row of a run the snapshot may hold, or a task of an unknown run, is not', () => {
  const fold = new ActiveFold([{ run: run('a', 'running', 10), tasks: [task('a', 't', 'running', 0)] }], 10);
  fold.apply([
    { seq: 1, record: { t: 'run', run: run('n', 'running', 11) } },
    { seq: 2, record: { t: 'task', task: task('n', 't', 'queued', 0) } },
    { seq: 3, record: { t: 'task-patch', id: 'a.t', set: { state: 'completed' } } },
    { seq: 4, record: { t: 'run-patch', id: 'a', set: { state: 'completed', finalized: true } } },
  ]);
  assert.deepEqual(ids(fold.result()!), ['n']);
  const revived = new ActiveFold([], 10);
  revived.apply([{ seq: 1, record: { t: 'run', run: run('old', 'running', 10) } }]);
  assert.equal(revived.result(), undefined);
  const orphan = new ActiveFold([], 10);
  orphan.apply([{ seq: 1, record: { t: 'task', task: task('old', 't', 'queued', 0) } }]);
  assert.equal(orphan.result(), undefined);
});

const child = fileURLToPath(new URL('../support/store-crash-child.ts', import.meta.url));

test('SIGKILL after the sidecar is written and before the snapshot is committed loses nothing; the half generation is removed', async () => {
  const dir = tempDir();
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, dir, 'a', '50'], {
    encoding: 'utf8',
    env: { ...process.env, ORCHESTR8_CRASH_AT: 'snapshot.sidecar-written' },
    timeout: 60_000,
  });
  assert.equal(result.signal, 'SIGKILL', `the child died at the crash point (stderr: ${result.stderr})`);
  const acked = result.stdout
    .trim()
    .split('\n')
    .flatMap((l) => (JSON.parse(l) as { acked?: string }).acked ?? []);
  assert.ok(acked.length >= 50);
  assert.ok(
    fs.readdirSync(dir).some((n) => n.endsWith('.sqlite.active')),
    'the sidecar was on disk when it died',
  );
  const logger = recordingLogger();
  const store = await StateStore.openOwner(dir, { logger });
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.startsWith('snapshot')),
    [],
    'the uncommitted snapshot and its sidecar are gone',
  );
  assert.ok(
    logger.lines.some((l) => l.startsWith('debug open: taking work')),
    'and the owner still opens in two phases (from the journal)',
  );
  const active = new Set(ids(await store.activeState()));
  assert.deepEqual(
    acked.filter((id) => !active.has(id)),
    [],
    'every acknowledged run is recovered as active',
  );
  for (const id of acked) assert.equal((await store.index.getRun(id))?.name, id);
  await store.close();
});

test('a killed index worker is started again from disk: questions it owed are answered, commits go on, nothing is lost', async () => {
  const dir = tempDir();
  await folderWithActiveRuns(dir);
  const logger = recordingLogger();
  const store = await StateStore.openOwner(dir, { logger });
  await store.commit([{ t: 'run', run: run('before', 'running', 400) }]);
  // A question that waits for a batch not posted yet, then the worker dies under it.
  const owed = store.index.query('getRun', ['during'], store.index.postedSeq + 1);
  const killed = workerOf(store).terminate();
  const askedAsItDies = store.index.getRun('before');
  await killed;
  const askedAfter = store.index.getRun('h2');
  await store.commit([{ t: 'run', run: run('during', 'running', 401) }]);
  assert.equal((await owed)?.name, 'during');
  assert.equal((await askedAsItDies)?.name, 'before');
  assert.equal((await askedAfter)?.name, 'h2');
  assert.equal((await store.index.getRun('before'))?.name, 'before');
  assert.equal((await store.index.getRun('h50'))?.state, 'completed');
  assert.ok(
    logger.lines.some((l) => /^error index worker exited \(\d+\); starting it again/.test(l)),
    logger.lines.join(' | '),
  );
  await store.snapshot();
  await store.close();
  const again = await StateStore.openOwner(dir);
  assert.deepEqual(ids(await again.activeState()), ['a', 'c', 'before', 'during']);
  await again.close();
});

test('a worker that keeps dying is given up on: questions fail with IndexUnavailableError, commits stay durable', async () => {
  const dir = tempDir();
  const store = await StateStore.openOwner(dir, { index: { maxRespawns: 0 } });
  await store.commit([{ t: 'run', run: run('x', 'running', 1) }]);
  await workerOf(store).terminate();
  await assert.rejects(store.index.getRun('x'), { name: 'IndexUnavailableError', message: /index worker exited \(\d+\); it died 1 times/ });
  await store.commit([{ t: 'run', run: run('y', 'running', 2) }]);
  await store.close();
  const again = await StateStore.openOwner(dir);
  assert.deepEqual(ids(await again.activeState()), ['x', 'y']);
  await again.close();
});

test('a burst while the worker loads is held back at maxBehindBytes instead of queued without bound, and every commit lands', async () => {
  const dir = tempDir();
  await folderWithActiveRuns(dir);
  const bound = 16 * 1024;
  const store = await StateStore.openOwner(dir, { index: { maxBehindBytes: bound } });
  const padding = 'p'.repeat(1000);
  let maxBehind = 0;
  // 40 waves of 10 commits, each wave sent when the previous one is acknowledged (as an engine's
  // new work follows its acknowledged work): far faster than a loading worker takes anything in.
  for (let wave = 0; wave < 40; wave++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.commit([{ t: 'run', run: run(`burst${wave * 10 + i}`, 'completed', 1000 + wave * 10 + i, { description: padding }) }]),
      ),
    );
    maxBehind = Math.max(maxBehind, store.index.behindBytes);
  }
  console.log(`400 commits of ~1 KB in waves of 10 while the index loads: at most ${maxBehind} bytes held for the worker (bound ${bound})`);
  assert.ok(maxBehind <= bound * 2, `at most ${maxBehind} bytes were held for the worker (bound ${bound}, plus one group commit)`);
  assert.equal((await store.index.listRuns(1, 0)).total, 49 + 3 + 400);
  await store.close();
});

function workerOf(store: StateStore): { terminate(): Promise<number> } {
  return (store.index as unknown as { worker: { terminate(): Promise<number> } }).worker;
}
