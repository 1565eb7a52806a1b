// No ioredis here: the CLI reads these on every start, and ioredis is slow to load (see redis-probe.ts).

/** The environment variable that turns on BullMQ mode, like `--redis`. */
export const REDIS_URL_ENV = 'ORCHESTR8_REDIS_URL';

/**
 * Checks a Redis URL early, so a typo fails with a clear message instead of an
 * endless reconnect loop. Returns it normalised.
 */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`not a Redis URL: "${value}" (expected redis://[:password@]host[:port][/db] or rediss://…)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`not a Redis URL: "${value}" uses ${url.protocol}; expected redis:// or rediss://`);
  }
  if (!url.hostname) throw new Error(`Redis URL "${value}" names no host`);
  return url.toString();
}

/** `--redis` if given, else `ORCHESTR8_REDIS_URL`; undefined means embedded mode. */
export function redisUrlFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = option ?? env[REDIS_URL_ENV];
  return value ? parseRedisUrl(value) : undefined;
}

/** A URL safe to print: the password replaced. */
export function redactRedisUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * ioredis options BullMQ needs: `maxRetriesPerRequest: null` so a command waits out
 * a Redis restart instead of failing the task.
 */
export function bullConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}
