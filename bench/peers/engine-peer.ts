import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Engine } from '../../src/core/engine/engine.ts';
import type { TaskRecord } from '../../src/core/model/records.ts';
import type { TaskExecutor } from '../../src/core/runners/task-executor.ts';
import { newRunId } from '../../src/core/util/ids.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { DEFAULT_QUEUE, taskJobId } from '../../src/core/queue/task-job.ts';
import { startReadyChild, stopChild } from './child.ts';
import { type ThreadCpu, perUnit, sampleThreadCpu, threadCpuSince } from '../thread-cpu.ts';
import { processCpuSeconds } from './cpu.ts';
import { summarize, type PeerResult } from './stats.ts';
import { readJobTimes } from './stream-timings.ts';

const cliEntry = fileURLToPath(new URL('../../src/cli/cli.ts', import.meta.url));
/** The snapshot worker as shipped (`npm run bench:peers` builds it first), not the TypeScript source through tsx. */
const indexWorker = fileURLToPath(new URL('../../dist/index-worker.cjs', import.meta.url));

/**
 * Submits `tasks` single no-op tasks at once (one launch each, like `orchestr8 launch`;
 * concurrent launches share group commits, as `addBulk` shares a round trip) and
 * returns their records once every one has finished.
 */
async function runToEnd(engine: Engine, tasks: number, onFinished: () => void): Promise<TaskRecord[]> {
  const open = new Set<string>();
  let allLaunched = false;
  const finished = new Promise<void>((resolve) =>
    engine.onEvent((e) => {
      if (e.type !== 'workflow.completed' && e.type !== 'workflow.failed' && e.type !== 'workflow.cancelled') return;
      if (e.run.state !== 'completed') throw new Error(`bench run ${e.run.id} ended ${e.run.state}`);
      open.delete(e.run.id);
      if (allLaunched && open.size === 0) resolve();
    }),
  );
  const ids = Array.from({ length: tasks }, () => newRunId());
  for (const id of ids) open.add(id);
  await Promise.all(ids.map((id) => engine.launch({ id, task: { action: { kind: 'noop' } } })));
  allLaunched = true;
  if (open.size > 0) await finished;
  onFinished();
  const records: TaskRecord[] = [];
  for (const id of ids) records.push(...(await engine.status(id)).tasks);
  return records;
}

/**
 * Peer (a): the embedded engine (LocalExecutor, `inFlight` slots), durable sql.js
 * journal with group commit. Enqueue = the task became ready (`queuedAt`), start =
 * `startedAt`, end = `finishedAt`, all as the state of record has them.
 */
export async function runEmbedded(tasks: number, inFlight: number, executor?: TaskExecutor): Promise<PeerResult> {
  const root = mkdtempSync(path.join(tmpdir(), 'o8-peers-'));
  const engine = await Engine.open({ stateDir: path.join(root, 'state'), cwd: root, concurrency: inFlight, indexWorker, ...(executor ? { executor } : {}) });
  try {
    const cpu0 = processCpuSeconds(process.pid);
    const threads0 = sampleThreadCpu();
    let cpu = 0;
    let threads: ThreadCpu | false = false;
    const records = await runToEnd(engine, tasks, () => {
      cpu = processCpuSeconds(process.pid) - cpu0;
      threads = threadCpuSince(threads0);
    });
    return summarize(
      executor ? 'engine, remote-shaped executor' : 'embedded engine',
      records.map((t) => ({ enqueued: t.queuedAt!, started: t.startedAt!, finished: t.finishedAt! })),
      { engine: cpu },
      threads && perUnit(threads, tasks),
    );
  } finally {
    await engine.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Peer (b): the same engine with `BullmqExecutor`, and one `orchestr8 worker`
 * process (concurrency `inFlight`). Enqueue = `queuedAt` in the engine, start = when
 * the worker took the job (Redis's own stamp on the `active` event), end = when the
 * engine recorded the completion.
 */
export async function runBullmqMode(redisUrl: string, tasks: number, inFlight: number): Promise<PeerResult> {
  const root = mkdtempSync(path.join(tmpdir(), 'o8-peers-'));
  const queue = `${DEFAULT_QUEUE}-bench-${Date.now()}`;
  const worker = await startReadyChild(cliEntry, ['worker', '--redis', redisUrl, '--queue', queue, '--concurrency', String(inFlight)]);
  // The default dispatch-ahead window (1000 jobs in Redis): the worker's 100 slots are the in-flight limit, as in (c).
  const executor = new BullmqExecutor({ redisUrl, queue, maxInFlight: Number(process.env.O8_PEERS_WINDOW ?? 1000) });
  await executor.waitUntilReady();
  const engine = await Engine.open({ stateDir: path.join(root, 'state'), cwd: root, executor, indexWorker });
  try {
    const cpu0 = [processCpuSeconds(process.pid), processCpuSeconds(worker.pid!)];
    const threads0 = sampleThreadCpu();
    let cpu: Record<string, number> = {};
    let threads: ThreadCpu | false = false;
    const records = await runToEnd(engine, tasks, () => {
      cpu = { coordinator: processCpuSeconds(process.pid) - cpu0[0]!, worker: processCpuSeconds(worker.pid!) - cpu0[1]! };
      threads = threadCpuSince(threads0);
    });
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const times = await readJobTimes(redis, queue);
    redis.disconnect();
    if (process.env.O8_BENCH_BREAKDOWN) {
      const mean = (f: (t: TaskRecord) => number) => Math.round(records.reduce((a, t) => a + f(t), 0) / records.length);
      const at = (t: TaskRecord) => times.get(taskJobId(t))!;
      process.stderr.write(
        `breakdown (mean ms): engine start→job added ${mean((t) => at(t).added! - t.startedAt!)}, ` +
          `added→active ${mean((t) => at(t).active! - at(t).added!)}, active→completed ${mean((t) => at(t).finished! - at(t).active!)}, ` +
          `completed→engine finished ${mean((t) => t.finishedAt! - at(t).finished!)}\n`,
      );
    }
    return summarize(
      'orchestr8 BullMQ mode',
      records.map((t) => {
        const active = times.get(taskJobId(t))?.active;
        if (active === undefined) throw new Error(`no active event for ${t.id}`);
        return { enqueued: t.queuedAt!, started: active, finished: t.finishedAt! };
      }),
      cpu,
      threads && perUnit(threads, tasks),
    );
  } finally {
    await engine.close();
    await stopChild(worker);
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * An executor shaped like a remote one without any queue: each task "runs" for `ms` on a timer,
 * `slots` at once, so its start and its completion land in separate group commits, as they do in
 * BullMQ mode. The engine's cost with it, against the embedded engine's and the coordinator's,
 * tells the engine's share of the coordinator's CPU from the queue adapter's (bench/peers/one-peer.ts).
 */
export function remoteShapedExecutor(slots: number, ms = 2): TaskExecutor {
  let running = 0;
  return {
    freeSlots: () => Math.max(0, slots - running),
    execute: () => {
      running++;
      return new Promise((resolve) => setTimeout(() => (running--, resolve({ output: '' })), ms));
    },
    close: async () => {},
  };
}
