import { Redis } from 'ioredis';
import { redactRedisUrl } from './redis-url.ts';

/**
 * Connects once, without retrying, and PINGs: a wrong host, port or password fails
 * here with Redis's own message (and the password hidden) before any queue client
 * starts its endless reconnect loop.
 */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  // The first error event says what went wrong (ECONNREFUSED, WRONGPASS); the rejection only "Connection is closed".
  let cause: string | undefined;
  client.on('error', (error: Error) => (cause ??= error.message));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`cannot reach Redis at ${redactRedisUrl(url)}: ${cause ?? (error as Error).message}`);
  } finally {
    client.disconnect();
  }
}
