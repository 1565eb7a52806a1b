/**
 * Holds the process open until `work` settles. The engine unrefs its timers so it
 * never keeps a host (the extension, a test) alive by itself; a CLI process that
 * owns runs must, or it exits while a task waits for its retry backoff and the run
 * is left half done until some later owner recovers it.
 */
export async function keepAliveWhile<T>(work: Promise<T>): Promise<T> {
  const handle = setInterval(() => {}, 60_000);
  try {
    return await work;
  } finally {
    clearInterval(handle);
  }
}
