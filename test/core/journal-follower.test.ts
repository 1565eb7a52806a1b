import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { listSegments } from '../../src/core/store/journal.ts';
import { listSnapshots } from '../../src/core/store/snapshot-files.ts';
import { journalDir, StateStore } from '../../src/core/store/state-store.ts';
import { LineProcess } from '../support/line-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

const CHILD = fileURLToPath(new URL('../support/follow-owner-child.ts', import.meta.url));
const READER = fileURLToPath(new URL('../support/follow-reader-child.ts', import.meta.url));

const run = (id: string, n: number): RunRecord => ({ id, name: id, inputs: {}, state: 'completed', single: false, cwd: '/tmp', createdAt: n });

/** One finished run and its event, acknowledged (durable) when the promise resolves. */
async function transition(store: StateStore, id: string, n: number): Promise<void> {
  await store.commit([
    { t: 'run', run: run(id, n) },
    { t: 'event', event: { type: 'workflow.completed', at: Date.now(), runId: id } },
  ]);
}

function completedIds(events: EngineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'workflow.completed' ? [e.run.id] : []));
}

/** Runs the child owner with this process's event loop frozen: a reader here cannot read meanwhile. */
function ownerChild(stateDir: string, tag: string, from: number, to: number, snapshotEvery = 0): void {
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, stateDir, tag, String(from), String(to), String(snapshotEvery)], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
}

test('a reader follows 1,000 transitions across a rotation and two snapshots, in order, without reloading', async () => {
  const stateDir = tempDir('o8-follow-');
  const owner = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await transition(owner, 'before', 0);
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 200 });
  const events: EngineEvent[] = [];
  let reloads = 0;
  reader.onEvent((e) => events.push(e));
  reader.onDidReload(() => reloads++);
  const expected: string[] = [];
  for (let n = 0; n < 1000; n++) {
    const id = `r${n}`;
    await transition(owner, id, n);
    expected.push(id);
    // Rotations and folds: the second snapshot removes the segments the first one folded.
    if (n === 300 || n === 650) await owner.snapshot();
  }
  assert.ok(listSnapshots(stateDir).length >= 2, 'two snapshot generations were written');
  assert.ok(listSegments(journalDir(stateDir))[0]!.firstSeq > 1, 'the first segment was folded and removed');
  await until('every transition', () => completedIds(events).length >= 1000, 10_000);
  assert.deepEqual(completedIds(events), expected, 'every transition, in order, once');
  assert.equal(reloads, 0, 'followed, never reloaded');
  assert.equal(reader.lastSeq, await owner.index.lastSeq());
  const page = await reader.list({ limit: 1 });
  assert.equal(page.total, 1001, 'the followed view holds every run');
  assert.equal(page.runs[0]!.id, 'r999');
  await reader.close();
  await owner.close();
});

test('a reader sees an acknowledged transition well within a second', async () => {
  const stateDir = tempDir('o8-follow-');
  const owner = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true });
  const seenAt = new Map<string, number>();
  reader.onEvent((e) => e.type === 'workflow.completed' && seenAt.set(e.run.id, performance.now()));
  const latencies: number[] = [];
  for (let n = 0; n < 30; n++) {
    const id = `l${n}`;
    await transition(owner, id, n);
    const acked = performance.now();
    await until(`the reader to see ${id}`, () => seenAt.has(id), 5000);
    latencies.push(seenAt.get(id)! - acked);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  latencies.sort((a, b) => a - b);
  assert.ok(latencies[latencies.length - 1]! < 1000, `slowest ack → reader event ${latencies.at(-1)!.toFixed(1)} ms`);
  await reader.close();
  await owner.close();
});

test('a reader that falls behind a removed segment reloads once, then follows again', async () => {
  const stateDir = tempDir('o8-follow-');
  ownerChild(stateDir, 'a', 0, 10);
  // In a process of its own, so that it can be frozen whole, its index worker included.
  const reader = LineProcess.start('reader', READER, [stateDir, '100']);
  try {
    await reader.waitFor(/^ready$/);
    reader.child.kill('SIGSTOP');
    // Frozen while another owner commits and folds twice: the segment after the reader's seq is removed.
    try {
      ownerChild(stateDir, 'b', 0, 300, 100);
    } finally {
      reader.child.kill('SIGCONT');
    }
    assert.ok(listSegments(journalDir(stateDir))[0]!.firstSeq > 11, 'the segment the reader needed is gone');
    assert.equal(await reader.waitFor(/^reloaded /, 10_000), 'reloaded total=310', 'the reloaded view holds every run');
    // From here it follows again: no second reload.
    ownerChild(stateDir, 'c', 0, 20);
    assert.equal(await reader.waitFor(/^completed c-19 /, 10_000), 'completed c-19 total=330');
    const followed = reader.lines.flatMap((l) => /^completed (c-\d+) /.exec(l)?.[1] ?? []);
    assert.deepEqual(
      followed,
      Array.from({ length: 20 }, (_, i) => `c-${i}`),
    );
    assert.equal(reader.lines.filter((l) => l.startsWith('reloaded')).length, 1, 'reloaded exactly once');
  } finally {
    await reader.kill();
  }
});

test('a reader keeps following while its own thread is blocked: the records are applied in its index worker', async () => {
  const stateDir = tempDir('o8-follow-');
  ownerChild(stateDir, 'a', 0, 10);
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 100 });
  const events: EngineEvent[] = [];
  let reloads = 0;
  reader.onEvent((e) => events.push(e));
  reader.onDidReload(() => reloads++);
  // This thread is blocked while another owner commits and folds twice (a busy extension host, say).
  ownerChild(stateDir, 'b', 0, 300, 100);
  assert.ok(listSegments(journalDir(stateDir))[0]!.firstSeq > 11, 'segments were folded and removed meanwhile');
  await until('every transition', () => completedIds(events).filter((id) => id.startsWith('b-')).length === 300, 10_000);
  assert.deepEqual(
    completedIds(events).filter((id) => id.startsWith('b-')),
    Array.from({ length: 300 }, (_, i) => `b-${i}`),
  );
  assert.equal(reloads, 0, 'followed as the owner wrote, never fell behind, never reloaded');
  assert.equal((await reader.list({ limit: 1 })).total, 310);
  await reader.close();
});

test('a torn tail is left until the rest of the record arrives', async () => {
  const stateDir = tempDir('o8-follow-');
  const owner = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  await transition(owner, 'first', 0);
  await owner.close();
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 50 });
  const events: EngineEvent[] = [];
  reader.onEvent((e) => events.push(e));
  // Write the next frame in two halves, as a slow append would land.
  const { encodeRecord } = await import('../../src/core/store/journal-format.ts');
  const fs = await import('node:fs');
  const segment = listSegments(journalDir(stateDir)).at(-1)!.path;
  const frame = Buffer.concat([
    encodeRecord({ seq: 3, record: { t: 'run', run: run('second', 1) } }),
    encodeRecord({ seq: 4, record: { t: 'event', event: { type: 'workflow.completed', at: 1, runId: 'second' } } }),
  ]);
  const cut = frame.length - 7;
  fs.appendFileSync(segment, frame.subarray(0, cut));
  await reader.refresh(); // has read what the journal holds now, the half frame included
  assert.deepEqual(completedIds(events), [], 'nothing from an incomplete record');
  fs.appendFileSync(segment, frame.subarray(cut));
  await until('the completed record', () => completedIds(events).length === 1, 5000);
  assert.deepEqual(completedIds(events), ['second']);
  assert.equal(reader.lastSeq, 4);
  await reader.close();
});

test('a reader follows across an owner change: the old owner left a torn tail, the new one cuts it and appends', async () => {
  const stateDir = tempDir('o8-follow-');
  ownerChild(stateDir, 'a', 0, 5);
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 100 });
  const events: EngineEvent[] = [];
  let reloads = 0;
  reader.onEvent((e) => events.push(e));
  reader.onDidReload(() => reloads++);
  await reader.refresh();
  // A write the old owner never finished: half a frame at the end of its segment.
  const { encodeRecord } = await import('../../src/core/store/journal-format.ts');
  const fs = await import('node:fs');
  const segment = listSegments(journalDir(stateDir)).at(-1)!.path;
  const torn = encodeRecord({ seq: 11, record: { t: 'run', run: run('torn', 99) } });
  fs.appendFileSync(segment, torn.subarray(0, torn.length - 5));
  await reader.refresh();
  assert.deepEqual(completedIds(events), []);
  ownerChild(stateDir, 'b', 0, 10);
  await until('the new owner’s transitions', () => completedIds(events).length === 10, 10_000);
  assert.deepEqual(
    completedIds(events),
    Array.from({ length: 10 }, (_, i) => `b-${i}`),
  );
  assert.equal(reloads, 0, 'followed across the owner change, no reload');
  assert.equal(await reader.status('torn').catch(() => undefined), undefined, 'the torn record never shows');
  assert.equal((await reader.list({ limit: 1 })).total, 15);
  await reader.close();
});

test('a reader hears what a run delivered (a pull request) as run.delivered, with the typed delivery', async () => {
  const stateDir = tempDir('o8-follow-');
  const owner = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-') });
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 200 });
  const heard: EngineEvent[] = [];
  reader.onEvent((e) => heard.push(e));
  try {
    const { runId } = await owner.launch({ task: { action: { kind: 'noop', output: 'x' } } });
    await owner.recordDelivery(runId, { pullRequest: { url: 'https://github.example/o/r/pull/7', number: 7 } });
    await until('run.delivered at the reader', () => heard.some((e) => e.type === 'run.delivered'), 5000);
    const delivered = heard.find((e) => e.type === 'run.delivered');
    assert.ok(delivered?.type === 'run.delivered');
    assert.equal(delivered.run.delivery?.pullRequest?.url, 'https://github.example/o/r/pull/7');
  } finally {
    await reader.close();
    await owner.close();
  }
});
