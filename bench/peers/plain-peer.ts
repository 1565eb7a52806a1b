import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { startReadyChild, stopChild } from './child.ts';
import { processCpuSeconds } from './cpu.ts';
import { summarize, type PeerResult } from './stats.ts';
import { readJobTimes } from './stream-timings.ts';

const workerEntry = fileURLToPath(new URL('./plain-bullmq-worker.ts', import.meta.url));

/**
 * Peer (c): `tasks` no-op jobs added up front with plain `Queue.addBulk`, run by a
 * plain BullMQ Worker process with `inFlight` concurrency. Times come from Redis's
 * own event stream stamps.
 */
export async function runPlainBullmq(redisUrl: string, tasks: number, inFlight: number): Promise<PeerResult> {
  const name = `plain-${Date.now()}`;
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  // The events stream must hold every job's added/waiting/active/completed entries for the timings.
  const queue = new Queue(name, { connection, streams: { events: { maxLen: tasks * 6 } } });
  const events = new QueueEvents(name, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const worker = await startReadyChild(workerEntry, [redisUrl, name, String(inFlight)]);
  try {
    const cpu0 = [processCpuSeconds(process.pid), processCpuSeconds(worker.pid!)];
    let completed = 0;
    const done = new Promise<void>((resolve) => {
      events.on('completed', () => {
        if (++completed === tasks) resolve();
      });
    });
    for (let i = 0; i < tasks; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, tasks - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } }));
      await queue.addBulk(batch);
    }
    await done;
    const cpu = { producer: processCpuSeconds(process.pid) - cpu0[0]!, worker: processCpuSeconds(worker.pid!) - cpu0[1]! };
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const times = await readJobTimes(redis, name);
    redis.disconnect();
    if (process.env.O8_BENCH_BREAKDOWN) {
      const all = [...times.values()];
      const mean = (f: (t: (typeof all)[number]) => number) => Math.round(all.reduce((a, t) => a + f(t), 0) / all.length);
      process.stderr.write(
        `plain breakdown (mean ms): added→active ${mean((t) => t.active! - t.added!)}, active→completed ${mean((t) => t.finished! - t.active!)}\n`,
      );
    }
    const spans = [...times.values()].map((t) => ({ enqueued: t.added!, started: t.active!, finished: t.finished! }));
    if (spans.length !== tasks || spans.some((s) => !s.enqueued || !s.started || !s.finished)) {
      throw new Error(`plain BullMQ: incomplete timings for ${spans.length}/${tasks} jobs`);
    }
    return summarize('plain BullMQ', spans, cpu);
  } finally {
    await stopChild(worker);
    await events.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}
