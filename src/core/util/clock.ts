/** Time source, injectable so tests can control backoff and timeouts. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/**
 * The real clock. `keepAlive: false` unrefs its timers, for work that may wait for the next
 * process (webhook retries stay in the outbox) and must not keep a finished CLI alive for minutes.
 */
export function realClock(options: { keepAlive: boolean }): Clock {
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const handle = setTimeout(fn, ms);
      if (!options.keepAlive) handle.unref();
      return { cancel: () => clearTimeout(handle) };
    },
  };
}

// Timers stay referenced: a process that owns unfinished runs (a CLI run waiting out a
// retry backoff) must not exit under them. Engine.close() cancels every timer it set.
export const systemClock: Clock = realClock({ keepAlive: true });
