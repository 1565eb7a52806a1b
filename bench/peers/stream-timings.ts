import type { Redis } from 'ioredis';

/** When a job was added, started and finished, as Redis stamped it in the queue's event stream (ms). */
export interface JobTimes {
  added?: number;
  active?: number;
  finished?: number;
}

/**
 * Reads a BullMQ queue's whole event stream and returns per-job times. Stream ids
 * are `<ms>-<seq>` stamped by the Redis server, so every process is measured on one
 * clock, whichever process added or ran the job.
 */
export async function readJobTimes(redis: Redis, queue: string, prefix = 'bull'): Promise<Map<string, JobTimes>> {
  const key = `${prefix}:${queue}:events`;
  const times = new Map<string, JobTimes>();
  let start = '-';
  for (;;) {
    const entries = await redis.xrange(key, start, '+', 'COUNT', 5000);
    for (const [id, fields] of entries) {
      const ms = Number(id.slice(0, id.indexOf('-')));
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (!f.jobId) continue;
      const t = times.get(f.jobId) ?? {};
      if (f.event === 'added' || f.event === 'waiting') t.added ??= ms;
      else if (f.event === 'active') t.active ??= ms;
      else if (f.event === 'completed' || f.event === 'failed') t.finished = ms;
      times.set(f.jobId, t);
    }
    if (entries.length < 5000) return times;
    start = `(${entries[entries.length - 1]![0]}`;
  }
}
