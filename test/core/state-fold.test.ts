import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord } from '../../src/core/model/records.ts';
import { listSnapshots } from '../../src/core/store/snapshot-files.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import { tempDir } from '../support/temp-dir.ts';

// Runs with a name this long make ~1 KB records: a few hundred of them pass the fold thresholds.
const run = (id: string): RunRecord => ({
  id,
  name: `run ${id} ${'x'.repeat(900)}`,
  inputs: {},
  state: 'running',
  single: false,
  cwd: '/tmp',
  createdAt: Date.now(),
});

async function write(store: StateStore, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 50) {
    await store.commit(Array.from({ length: Math.min(50, from + count - i) }, (_, k) => ({ t: 'run' as const, run: run(`r${i + k}`) })));
  }
}

test('journal bytes left by earlier owners count toward the next snapshot: short-lived owners fold too', async () => {
  const dir = tempDir();
  const threshold = 200 * 1024;
  const first = await StateStore.openOwner(dir, { snapshotThreshold: threshold });
  await write(first, 0, 150); // ~150 KB: under the threshold and under the fold on close
  await first.close();
  assert.equal(listSnapshots(dir).length, 0);
  const second = await StateStore.openOwner(dir, { snapshotThreshold: threshold });
  await write(second, 150, 100); // ~100 KB more: alone under the threshold, together over it
  // The fold runs in the background after the commit that passed the threshold.
  for (let waited = 0; listSnapshots(dir).length === 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const snapshots = listSnapshots(dir);
  await second.close();
  assert.ok(snapshots.length >= 1, 'the second owner folded what both wrote');
});

test('an owner that closes with a long journal tail folds it, so the next open starts from a snapshot', async () => {
  const dir = tempDir();
  const owner = await StateStore.openOwner(dir);
  await write(owner, 0, 400); // ~400 KB, under the 4 MiB threshold
  const lastSeq = owner.index.postedSeq;
  await owner.close();
  const [newest] = listSnapshots(dir);
  assert.equal(newest?.lastSeq, lastSeq, 'the snapshot written on close holds everything');
  const again = await StateStore.openOwner(dir);
  assert.equal((await again.index.getRun('r399'))?.id, 'r399');
  await again.close();
});
