import type { Clock } from '../../src/core/util/clock.ts';

/** A clock whose time moves only when the test says so. */
export class ManualClock implements Clock {
  /** `time`: where it starts, say `Date.now()` for an engine whose records should carry plausible times. */
  constructor(private time = 0) {}
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  /** When the timers not yet fired are due, earliest first (a test can move to exactly the next one). */
  get due(): number[] {
    return this.timers
      .filter((t) => t.live)
      .map((t) => t.at)
      .sort((a, b) => a - b);
  }
  advance(ms: number): void {
    this.time += ms;
    for (const t of this.timers.filter((t) => t.live && t.at <= this.time)) {
      t.live = false;
      t.fn();
    }
  }
}
