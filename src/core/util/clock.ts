/** Time source, injectable so tests can control backoff and timeouts. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Timers stay referenced: a process that owns unfinished runs (a CLI run waiting out a
  // retry backoff) must not exit under them. Engine.close() cancels every timer it set.
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};
