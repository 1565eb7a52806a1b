import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '../../src/core/model/records.ts';
import { listSegments } from '../../src/core/store/journal.ts';
import { listSnapshots } from '../../src/core/store/snapshot-files.ts';
import { journalDir, StateStore } from '../../src/core/store/state-store.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';

const run = (id: string): RunRecord => ({ id, name: id, inputs: {}, state: 'running', single: false, cwd: '/tmp', createdAt: 1 });
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `r${from + i}`);

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: () => {}, info: () => {}, warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

async function commitRuns(store: StateStore, from: number, to: number): Promise<void> {
  for (const id of ids(from, to)) await store.commit([{ t: 'run', run: run(id) }]);
}

/** Every run in `expected` is there; `exact`: and no other (a crash may leave a durable run nobody heard of yet). */
async function assertRuns(store: StateStore, expected: string[], exact = true): Promise<void> {
  const names = await Promise.all(expected.map(async (id) => (await store.index.getRun(id))?.name));
  const missing = expected.filter((id, i) => names[i] !== id);
  assert.deepEqual(missing, [], 'every acknowledged run is there');
  const total = (await store.index.listRuns(1, 0)).total;
  if (exact) assert.equal(total, expected.length);
  else assert.ok(total >= expected.length);
}

/** The newest snapshot file, whatever the layout calls it. */
function newestSnapshotFile(dir: string): string {
  return path.join(
    dir,
    fs
      .readdirSync(dir)
      .filter((n) => /^snapshot.*\.sqlite$/.test(n))
      .sort()
      .pop()!,
  );
}

/** Two snapshots (after r100 and r200) and 50 records after them. */
async function twoGenerations(dir: string): Promise<void> {
  const store = await StateStore.openOwner(dir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await commitRuns(store, 1, 100);
  await store.snapshot();
  await commitRuns(store, 101, 200);
  await store.snapshot();
  await commitRuns(store, 201, 250);
  await store.close();
}

async function fallsBackFromDamagedNewestSnapshot(damage: (file: string) => void): Promise<void> {
  const dir = tempDir();
  await twoGenerations(dir);
  const newest = newestSnapshotFile(dir);
  damage(newest);
  const reader = recordingLogger();
  const view = await StateStore.openReader(dir, { logger: reader });
  await assertRuns(view, ids(1, 250));
  await view.close();
  assert.ok(fs.existsSync(newest), 'a reader sets nothing aside');

  const logger = recordingLogger();
  const owner = await StateStore.openOwner(dir, { logger, snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await assertRuns(owner, ids(1, 250));
  const name = path.basename(newest);
  assert.match(
    logger.lines.join('\n'),
    new RegExp(
      `^error snapshot ${name.replace('.', '\\.')} .*: falling back to snapshot-0000000000000100\\.sqlite and the journal; it is kept as ${name.replace('.', '\\.')}\\.corrupt`,
      'm',
    ),
  );
  assert.ok(!listSnapshots(dir).some((s) => s.path === newest), 'never used again');
  await owner.commit([{ t: 'run', run: run('r251') }]);
  assert.equal(await owner.index.lastSeq(), 251, 'the next seq after the highest in the journal');
  await owner.snapshot();
  await owner.close();
  const quiet = recordingLogger();
  const again = await StateStore.openOwner(dir, { logger: quiet });
  await assertRuns(again, ids(1, 251));
  assert.deepEqual(quiet.lines, []);
  await again.close();
}

test('4 KB of random bytes in the newest snapshot: its checksum fails, the previous snapshot and the journal give every record back', async () => {
  await fallsBackFromDamagedNewestSnapshot((file) => {
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, randomBytes(4096), 0, 4096, Math.floor(fs.fstatSync(fd).size / 2));
    fs.closeSync(fd);
  });
});

test('a truncated newest snapshot falls back the same way', async () => {
  await fallsBackFromDamagedNewestSnapshot((file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)));
});

test('a legacy snapshot.sqlite (no checksum), as the previous version wrote it, opens and is replaced by checksummed generations', async () => {
  const dir = tempDir();
  // fixtures/legacy-state: written by the code before checksums (see its README): r1–r100 in snapshot.sqlite, r101–r120 in the journal.
  const fixture = fileURLToPath(new URL('./fixtures/legacy-state/', import.meta.url));
  fs.writeFileSync(path.join(dir, 'snapshot.sqlite'), gunzipSync(fs.readFileSync(path.join(fixture, 'snapshot.sqlite.gz'))));
  fs.cpSync(path.join(fixture, 'journal'), journalDir(dir), { recursive: true });

  const logger = recordingLogger();
  const owner = await StateStore.openOwner(dir, { logger, snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await assertRuns(owner, ids(1, 120));
  assert.deepEqual(logger.lines, []);
  await commitRuns(owner, 121, 130);
  await owner.snapshot();
  assert.ok(fs.existsSync(path.join(dir, 'snapshot.sqlite')), 'kept as the previous generation');
  await commitRuns(owner, 131, 140);
  await owner.snapshot();
  await owner.close();
  assert.equal(fs.existsSync(path.join(dir, 'snapshot.sqlite')), false, 'older than the previous generation: removed');
  assert.deepEqual(
    listSnapshots(dir).map((s) => s.lastSeq),
    [140, 130],
  );
  const reopened = await StateStore.openReader(dir);
  await assertRuns(reopened, ids(1, 140));
  await reopened.close();
});

test('a snapshot without its checksum file is incomplete: readers ignore it, the owner removes it', async () => {
  const dir = tempDir();
  await twoGenerations(dir);
  const newest = listSnapshots(dir)[0]!;
  fs.rmSync(`${newest.path}.sha256`);
  const reader = await StateStore.openReader(dir);
  await assertRuns(reader, ids(1, 250));
  await reader.close();
  const logger = recordingLogger();
  const owner = await StateStore.openOwner(dir, { logger });
  await assertRuns(owner, ids(1, 250));
  assert.equal(fs.existsSync(newest.path), false);
  assert.deepEqual(logger.lines, []);
  await owner.close();
});

test('only segments wholly folded into the previous snapshot are removed', async () => {
  const dir = tempDir();
  await twoGenerations(dir);
  const [newest, previous] = listSnapshots(dir);
  assert.deepEqual([newest!.lastSeq, previous!.lastSeq], [200, 100]);
  assert.deepEqual(
    listSegments(journalDir(dir)).map((s) => s.firstSeq),
    [101, 201],
  );
});

const child = fileURLToPath(new URL('../support/store-crash-child.ts', import.meta.url));

/** Runs the child until it kills itself at `crashAt`; returns the ids it acknowledged. */
function runUntilKilled(dir: string, tag: string, crashAt: string): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, dir, tag, '50'], {
    encoding: 'utf8',
    env: { ...process.env, ORCHESTR8_CRASH_AT: crashAt },
    timeout: 60_000,
  });
  assert.equal(result.signal, 'SIGKILL', `the child died at ${crashAt} (stderr: ${result.stderr})`);
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { acked?: string; snapshot?: string });
  assert.ok(!lines.some((l) => l.snapshot), 'killed inside the snapshot');
  return lines.flatMap((l) => (l.acked ? [l.acked] : []));
}

test('SIGKILL between a snapshot folding several segments and their removal loses no acknowledged record', async () => {
  const dir = tempDir();
  const acked: string[] = [];
  // Killed right after rotating, twice: the next snapshot folds three segments.
  acked.push(...runUntilKilled(dir, 'a', 'journal.rotated'));
  acked.push(...runUntilKilled(dir, 'b', 'journal.rotated'));
  assert.equal(listSegments(journalDir(dir)).length, 3);
  // Killed once the snapshot is in place, none of the segments removed; records were committed meanwhile.
  acked.push(...runUntilKilled(dir, 'c', 'snapshot.renamed'));
  const reader = recordingLogger();
  const afterRename = await StateStore.openReader(dir, { logger: reader });
  await assertRuns(afterRename, acked, false);
  assert.deepEqual(reader.lines, [], 'a reader reports nothing');
  await afterRename.close();
  acked.push(...runUntilKilled(dir, 'd', 'snapshot.renamed'));
  // The second generation: the segments folded into the first are removed; killed after the first of them.
  acked.push(...runUntilKilled(dir, 'e', 'segments.dropping'));

  const logger = recordingLogger();
  const owner = await StateStore.openOwner(dir, { logger });
  await assertRuns(owner, acked, false);
  assert.deepEqual(logger.lines, [], 'nothing reported as corrupt or missing');
  const lastSeq = await owner.index.lastSeq();
  await owner.commit([{ t: 'run', run: run('after') }]);
  assert.equal(await owner.index.lastSeq(), lastSeq + 1, 'the next seq, none reused');
  await owner.close();
  const reopened = await StateStore.openReader(dir);
  await assertRuns(reopened, [...acked, 'after'], false);
  await reopened.close();
});
