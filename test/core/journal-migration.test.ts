import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { readSegmentHeader, scanFrames } from '../../src/core/store/journal-format.ts';
import { listSegments } from '../../src/core/store/journal.ts';
import type { StateIndex } from '../../src/core/store/state-index.ts';
import { journalDir, StateStore } from '../../src/core/store/state-store.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/v1-state/', import.meta.url));

/** The v1 fixture (see its README) in a temp folder, its snapshot unzipped. */
function copyFixture(): string {
  const dir = tempDir('o8-v1-');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.sqlite.gz')) continue;
    fs.writeFileSync(path.join(dir, name.slice(0, -3)), gunzipSync(fs.readFileSync(path.join(dir, name))));
    fs.rmSync(path.join(dir, name));
  }
  return dir;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: () => {}, info: () => {}, warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

/** Every run with its tasks (key:state:attempt), newest run first. */
async function runsOf(db: StateIndex): Promise<string[]> {
  const { runs } = await db.listRuns(100, 0);
  return Promise.all(runs.map(async (r) => `${r.id} ${r.state}: ${(await db.getTasks(r.id)).map((t) => `${t.key}:${t.state}:${t.attempt}`).join(' ')}`));
}

const V1_RUNS = [
  'r-busy running: first:running:1 second:queued:0',
  'r-open running: gate:waiting:1 long:running:1 next:pending:0',
  'r-signalled completed: task:completed:1',
  'r-cancelled cancelled: approve:cancelled:1 ship:cancelled:0',
  'r-failed failed: broken:failed:2 dependent:skipped:0 sibling:completed:1',
  'r-completed completed: hello:completed:1 after:completed:1',
];

/** Everything the fixture holds, read through the queries the engine uses. */
async function assertV1Content(db: StateIndex): Promise<void> {
  assert.deepEqual(await runsOf(db), V1_RUNS);
  assert.equal((await db.getResult('r-completed.after'))?.output, 'hello world');
  assert.equal((await db.getResult('r-signalled.task'))?.output, 'approved by fixture');
  assert.match((await db.getTask('r-failed.broken'))?.error ?? '', /exit code 3|exited with 3|3/);
  assert.equal((await db.getRun('r-completed'))?.inputs['who'], 'world');
  assert.equal((await db.eventsAfter(0, 10_000)).filter((e) => e.seq <= 102).length, 39);
  assert.deepEqual(await db.usage({ runId: 'r-completed' }), {
    inputTokens: 200,
    outputTokens: 75,
    cacheWriteTokens: 10,
    cacheReadTokens: 20,
    costUsd: 0.0034,
  });
  assert.deepEqual(
    (await db.gates('r-completed')).map((g) => `${g.gate}:${g.verdict}`),
    ['tests:pass'],
  );
  assert.deepEqual((await db.checkpoint('r-open.long'))?.state, { turn: 3, notes: ['a', 'b'] });
  assert.deepEqual(
    (await db.webhookDeliveries('pending', 10)).map((d) => `${d.id}:${d.attempts}:${d.lastError}`),
    ['wh-2:2:connect ECONNREFUSED'],
  );
  assert.equal((await db.getWebhookDelivery('wh-1'))?.state, 'delivered');
  assert.equal(await db.cursor('webhooks'), 40);
  assert.deepEqual((await db.undeliveredNotifications()).map((n) => n.runId).sort(), ['r-cancelled', 'r-failed', 'r-failed', 'r-signalled']);
}

test('a v1 state folder opens with everything in it, takes v2 records in a segment of their own, reopens, and a reader follows across the formats', async () => {
  const dir = copyFixture();
  const v1Segments = listSegments(journalDir(dir)).map((s) => [s.path, fs.readFileSync(s.path)] as const);
  assert.deepEqual(
    v1Segments.map(([file]) => path.basename(file)),
    ['0000000000000001.journal', '0000000000000053.journal'],
  );

  // A reader that opened the v1 folder before the new owner: it follows from seq 102.
  const reader = await ReadOnlyEngine.open(dir, { follow: true, pollMs: 50 });
  const followed: EngineEvent[] = [];
  reader.onEvent((e) => followed.push(e));

  const logger = recordingLogger();
  const owner = await StateStore.openOwner(dir, { logger, snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await assertV1Content(owner.index);
  assert.deepEqual(logger.lines, []);
  assert.equal(await owner.index.lastSeq(), 102);

  // Transitions as the engine records them now: patches of rows the v1 journal created, and a new run.
  const now = Date.now();
  await owner.commit([
    { t: 'task-patch', id: 'r-busy.first', set: { state: 'completed', finishedAt: now, updatedAt: now }, unset: ['pid', 'owner'] },
    { t: 'result', result: { taskId: 'r-busy.first', runId: 'r-busy', output: 'first done', createdAt: now } },
    { t: 'event', event: { type: 'task.completed', at: now, runId: 'r-busy', taskId: 'r-busy.first' } },
    { t: 'task-patch', id: 'r-busy.second', set: { state: 'running', attempt: 1, startedAt: now, updatedAt: now } },
    { t: 'event', event: { type: 'task.started', at: now, runId: 'r-busy', taskId: 'r-busy.second' } },
  ]);
  await owner.commit([
    { t: 'run-patch', id: 'r-open', set: { state: 'cancelled', finishedAt: now, description: 'cancelled by test' } },
    { t: 'event', event: { type: 'workflow.cancelled', at: now, runId: 'r-open' } },
  ]);

  const segments = listSegments(journalDir(dir));
  assert.deepEqual(
    segments.map((s) => s.firstSeq),
    [1, 53, 103],
    'v2 records start a segment of their own',
  );
  for (const [file, bytes] of v1Segments) assert.ok(fs.readFileSync(file).equals(bytes), `${path.basename(file)} is left as it was`);
  const head = readSegmentHeader(fs.readFileSync(segments[2]!.path));
  assert.equal(typeof head === 'object' && head.version, 2, 'the new segment says it is v2');

  await until('the reader to follow the v2 records', () => followed.length >= 3, 5000);
  assert.deepEqual(
    followed.map((e) => `${e.type} ${e.seq}`),
    ['task.completed 105', 'task.started 107', 'workflow.cancelled 109'],
  );
  const started = followed[1]!;
  assert.equal(
    started.type === 'task.started' && `${started.task.state}:${started.task.attempt}:${started.task.name}`,
    'running:1:second',
    'the patched row keeps the fields the patch left alone',
  );
  const first = await reader.task('r-busy.first');
  assert.equal(first.state, 'completed');
  assert.equal(first.pid, undefined, 'an unset field is gone');
  assert.equal(first.owner, undefined);
  assert.equal(first.action.kind, 'run');
  await owner.close();

  const expected = [
    'r-busy running: first:completed:1 second:running:1',
    'r-open cancelled: gate:waiting:1 long:running:1 next:pending:0',
    ...V1_RUNS.slice(2),
  ];
  for (const store of [await StateStore.openOwner(dir, { logger }), await StateStore.openReader(dir, { logger })]) {
    assert.deepEqual(await runsOf(store.index), expected);
    assert.equal((await store.index.getRun('r-open'))?.description, 'cancelled by test');
    assert.equal((await store.index.getResult('r-busy.first'))?.output, 'first done');
    assert.equal(await store.index.lastSeq(), 109);
    await store.close();
  }
  assert.deepEqual(logger.lines, []);
  const followedRuns = await Promise.all(
    (await reader.list({ limit: 100 })).runs.map(async (r) => {
      const { tasks } = await reader.status(r.id);
      return `${r.id} ${r.state}: ${tasks.map((t) => `${t.key}:${t.state}:${t.attempt}`).join(' ')}`;
    }),
  );
  assert.deepEqual(followedRuns, expected, 'the follower holds what a fresh open holds');
  await reader.close();
});

test('a v1 state folder folds into a v2 snapshot: the v1 segments are read by the snapshot worker and then removed', async () => {
  const dir = copyFixture();
  const owner = await StateStore.openOwner(dir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await owner.commit([{ t: 'task-patch', id: 'r-busy.second', set: { state: 'cancelled' } }]);
  await owner.snapshot();
  await owner.commit([{ t: 'task-patch', id: 'r-open.next', set: { state: 'skipped' } }]);
  await owner.snapshot();
  await owner.close();
  assert.deepEqual(
    listSegments(journalDir(dir)).map((s) => s.firstSeq),
    [104, 105],
    'the v1 segments were folded and removed',
  );
  const reader = await StateStore.openReader(dir);
  assert.equal((await reader.index.getTask('r-busy.second'))?.state, 'cancelled');
  assert.equal((await reader.index.getTask('r-open.next'))?.state, 'skipped');
  assert.equal((await reader.index.getTask('r-open.next'))?.name, 'next');
  assert.deepEqual((await runsOf(reader.index)).slice(2), V1_RUNS.slice(2));
  await reader.close();
});

test('a new engine takes over the v1 folder a killed owner left: it resumes the work, records it as v2 patches, and a reader sees the end', {
  timeout: 60_000,
}, async () => {
  const dir = copyFixture();
  // The project folder the fixture's runs work in (made when it was written) exists again.
  const reading = await StateStore.openReader(dir);
  const cwd = (await reading.index.getRun('r-open'))!.cwd;
  await reading.close();
  if (!fs.existsSync(cwd)) {
    fs.mkdirSync(cwd, { recursive: true });
    after(() => fs.rmSync(cwd, { recursive: true, force: true }));
  }
  const { engine } = await openEngine({ stateDir: dir });
  const before = await engine.list({ limit: 100 });
  assert.deepEqual(
    before.runs.map((r) => `${r.id} ${r.state}`),
    V1_RUNS.map((line) => line.slice(0, line.indexOf(':'))),
  );
  assert.equal((await engine.result('r-completed.after'))?.output, 'hello world');
  await engine.signal('r-open.gate', 'go');
  const [open, busy] = await Promise.all([runFinished(engine, 'r-open'), runFinished(engine, 'r-busy')]);
  assert.deepEqual([open.state, busy.state], ['completed', 'completed']);
  await engine.close();

  const v2 = listSegments(journalDir(dir)).filter((s) => s.firstSeq > 102);
  const records = v2.flatMap((s) => scanFrames(fs.readFileSync(s.path), s.firstSeq).entries.map((e) => e.record.t));
  assert.ok(records.includes('task-patch'), 'the new engine records transitions as patches');
  const reader = await ReadOnlyEngine.open(dir);
  const { tasks } = await reader.status('r-open');
  assert.deepEqual(
    tasks.map((t) => `${t.key}:${t.state}`),
    ['gate:completed', 'long:completed', 'next:completed'],
  );
  assert.equal((await reader.result('r-open.gate'))?.output, 'go');
  assert.equal(
    (await reader.status('r-busy')).tasks.every((t) => t.state === 'completed' && t.action.kind === 'run'),
    true,
  );
  await reader.close();
});
