import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../src/core/util/clock.ts';
import { Debouncer } from '../../src/extension/presenters/debouncer.ts';

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
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

test('a burst becomes one batch, delivered a fixed delay after its first item', () => {
  const clock = new ManualClock();
  const batches: number[][] = [];
  const d = new Debouncer<number>(150, (b) => batches.push(b), clock);
  d.push(1);
  clock.advance(100);
  d.push(2);
  clock.advance(49);
  assert.deepEqual(batches, []);
  clock.advance(1);
  assert.deepEqual(batches, [[1, 2]], 'a steady stream still refreshes every 150 ms');
  d.push(3);
  clock.advance(150);
  assert.deepEqual(batches, [[1, 2], [3]]);
});

test('fire hands over at once; dispose drops what is pending and stops the timer', () => {
  const clock = new ManualClock();
  const batches: string[][] = [];
  const d = new Debouncer<string>(100, (b) => batches.push(b), clock);
  d.push('a');
  d.fire();
  assert.deepEqual(batches, [['a']]);
  d.fire();
  assert.deepEqual(batches, [['a']], 'nothing pending: no empty batch');
  d.push('b');
  d.dispose();
  clock.advance(1000);
  assert.deepEqual(batches, [['a']]);
});
