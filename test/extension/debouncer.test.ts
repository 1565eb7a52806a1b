import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Debouncer } from '../../src/extension/presenters/debouncer.ts';
import { ManualClock } from '../support/manual-clock.ts';

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
