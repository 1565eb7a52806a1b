import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { readLock } from '../../src/core/store/state-lock.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import { StorageFullError } from '../../src/core/store/storage-full.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { ApiClient } from '../../src/servers/http/api-client.ts';
import { discoveryPath } from '../../src/servers/http/api-discovery.ts';
import { ApiServer } from '../../src/servers/http/api-server.ts';
import { nextEvent, runFinished, workflow } from '../support/engine-harness.ts';
import { fillDisk, mountSmallFs } from '../support/small-fs.ts';
import { tempDir } from '../support/temp-dir.ts';
import { stillHolds } from '../support/until.ts';

/** Six tasks printing steadily, two at a time; `long` prints through the outage and after it. */
const printing = (seconds: number) => `for i in $(seq 1 ${seconds * 20}); do echo "line $i: some task output to fill the log"; sleep 0.05; done`;
const WORKFLOW = `name: fills-the-disk
concurrency: 2
tasks:
  long:
    run: '${printing(12)}'
${['a', 'b', 'c', 'd', 'e'].map((k) => `  ${k}:\n    run: '${printing(1)}'\n`).join('')}  last:
    needs: [long, a, b, c, d, e]
    run: echo done
`;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, error?: unknown) => lines.push(`${level} ${message}${error ? ` ${String(error)}` : ''}`);
  return { lines, debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') };
}

test('a disk that fills up mid-run pauses the owner, which says why, refuses new work, loses nothing and finishes the run by itself once space is freed', {
  timeout: 120_000,
}, async (t) => {
  const mount = mountSmallFs(t, '4m');
  if (!mount) return;
  const stateDir = path.join(mount, 'state');
  const cwd = tempDir('o8-full-cwd-');
  const filler = path.join(mount, 'filler');
  const logger = recordingLogger();
  // Small snapshots: one is folded (and fails to be written) while the disk is full too.
  const engine = await Engine.open({ stateDir, cwd, logger, concurrency: 4, shutdownGraceMs: 1000, snapshotThreshold: 4096 });
  const api = await ApiServer.start({ engine, stateDir, cwd, logger });
  t.after(async () => {
    fs.rmSync(filler, { force: true });
    await api.close();
    await engine.close();
  });
  const acked: EngineEvent[] = [];
  engine.onEvent((e) => e.type !== 'task.progress' && acked.push(e));

  // Listened for first: a launch's first starts are in its own commit, heard before launch() returns.
  const longStarted = nextEvent(engine, 'task.started', (e) => e.task.key === 'long');
  const { runId } = await engine.launch({ workflow: workflow(WORKFLOW) });
  await longStarted;
  fillDisk(filler);

  // A short task finishes within a second: its completion cannot be saved, and the owner pauses.
  const paused = await nextEvent(engine, 'engine.storage', (e) => e.state === 'paused', 20_000);
  assert.match(paused.reason, /^ENOSPC: no space left on device, write \(journal in .+\)$/);
  assert.deepEqual(engine.storage, { state: 'paused', reason: paused.reason, since: (engine.storage as { since: number }).since });
  assert.ok(
    logger.lines.some((l) => l.startsWith('error storage full: ENOSPC') && l.includes('work is paused until space is freed')),
    `the owner logs why it paused:\n${logger.lines.join('\n')}`,
  );

  // New work is refused at once, with the reason, here and through the local API; reads still work.
  const refusedAt = Date.now();
  await assert.rejects(engine.launch({ workflow: workflow(WORKFLOW) }), (error: Error) => {
    assert.ok(error instanceof StorageFullError);
    assert.match(error.message, /^storage full: ENOSPC: no space left on device.*; work is paused until space is freed$/);
    return true;
  });
  assert.ok(Date.now() - refusedAt < 500, 'refused at once, not after waiting for space');
  const client = await ApiClient.connect(stateDir);
  assert.ok(client, 'api.json is still there and the API answers');
  await assert.rejects(client.launch({ task: { action: { kind: 'run', run: 'true' } } }), (error: Error) => {
    assert.ok(error instanceof StorageFullError, 'the remote caller sees the same type');
    assert.match(error.message, /storage full: .*work is paused until space is freed/);
    return true;
  });
  assert.equal((await client.status(runId)).run.state, 'running');
  client.dispose();

  // Paused: the owner stays up and keeps its lock; no new attempt starts. Nothing positive
  // follows while the disk stays full, so this is a bounded check: the journal tries its write
  // again 250 ms after the pause, then 500 ms after that; an owner giving up, or an attempt
  // announced without its record on disk, would come at one of those retries, both within 1 s.
  const startedBefore = acked.filter((e) => e.type === 'task.started').length;
  await stillHolds(
    'the owner stays up, paused, and starts nothing',
    () => engine.lifecycle === 'running' && engine.storage.state === 'paused' && acked.filter((e) => e.type === 'task.started').length === startedBefore,
    1000,
  );
  assert.equal(readLock(stateDir)?.pid, process.pid);
  assert.ok(fs.existsSync(discoveryPath(stateDir)));
  assert.deepEqual(
    fs.readdirSync(stateDir).filter((name) => name.includes('.tmp-')),
    [],
    'a snapshot that failed left no temp file',
  );

  // Space returns: the owner notices by itself and the run completes, each task on its first attempt.
  fs.rmSync(filler);
  const resumed = await nextEvent(engine, 'engine.storage', (e) => e.state === 'resumed', 15_000);
  assert.match(resumed.reason, /writes succeed again after \d+ s; work resumes/);
  assert.equal(engine.storage.state, 'ok');
  const run = await runFinished(engine, runId, 60_000);
  assert.equal(run.state, 'completed');
  const { tasks } = await engine.status(runId);
  for (const task of tasks) assert.deepEqual([task.key, task.state, task.attempt], [task.key, 'completed', 1]);
  assert.match(await engine.log(`${runId}.long`), /\n\[orchestr8: \d+ bytes of output dropped: disk full\]\n/, 'the log says what it lost');
  assert.equal(readLock(stateDir)?.pid, process.pid, 'the lock is still ours');
  assert.ok(fs.existsSync(discoveryPath(stateDir)), 'api.json is still there');
  assert.ok(!logger.lines.some((l) => l.includes('engine stopped')), 'the engine never gave up');

  // Every transition anyone was told of is on disk.
  await api.close();
  await engine.close();
  const reader = await StateStore.openReader(stateDir);
  try {
    const stored = new Set((await reader.index.eventsAfter(0, 100_000)).map((e) => `${e.type} ${e.taskId ?? e.runId}`));
    for (const e of acked) {
      if (e.type === 'engine.storage') continue; // announced, not stored
      const id = 'task' in e ? e.task.id : 'run' in e ? e.run.id : '';
      assert.ok(stored.has(`${e.type} ${id}`), `acknowledged "${e.type} ${id}" is missing`);
    }
    assert.equal((await reader.index.getRun(runId))?.state, 'completed');
  } finally {
    await reader.close();
  }
});

test('closing an owner whose disk is still full does not wait for space: it saves what it can and lets go of the folder', { timeout: 60_000 }, async (t) => {
  const mount = mountSmallFs(t, '4m');
  if (!mount) return;
  const stateDir = path.join(mount, 'state');
  const cwd = tempDir('o8-full-cwd-');
  const logger = recordingLogger();
  const engine = await Engine.open({ stateDir, cwd, logger, concurrency: 2, shutdownGraceMs: 500 });
  t.after(() => engine.close());
  // Retries: a task whose end could not be saved before the close is run again by the next owner.
  const slowStarted = nextEvent(engine, 'task.started', (e) => e.task.key === 'slow');
  const { runId } = await engine.launch({
    workflow: workflow(`name: cut-short\ntasks:\n  slow:\n    run: '${printing(4)}'\n    retries: 1\n  quick:\n    run: echo hi\n    retries: 1\n`),
  });
  await slowStarted;
  fillDisk(path.join(mount, 'filler'));
  await nextEvent(engine, 'engine.storage', (e) => e.state === 'paused', 20_000);

  const closing = Date.now();
  await engine.close();
  assert.ok(Date.now() - closing < 10_000, `close took ${Date.now() - closing} ms`);
  assert.equal(readLock(stateDir), undefined, 'the lock is released: the next owner takes over from what is durable');

  fs.rmSync(path.join(mount, 'filler'));
  const next = await Engine.open({ stateDir, cwd, concurrency: 2 });
  try {
    const run = await runFinished(next, runId, 60_000);
    assert.equal(run.state, 'completed', 'the next owner finishes the run');
  } finally {
    await next.close();
  }
});
