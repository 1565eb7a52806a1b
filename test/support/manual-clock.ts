import type { Clock } from '../../src/core/util/clock.ts';

/** A clock whose time moves only when the test says so. */
export class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  advance(ms: number): void {
    this.time += ms;
    for (const t of this.timers.filter((t) => t.live && t.at <= this.time)) {
      t.live = false;
      t.fn();
    }
  }
}
