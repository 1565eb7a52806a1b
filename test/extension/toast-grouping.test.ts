import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ToastView } from '../../src/extension/presenters/notification-policy.ts';
import { ToastGrouper, type ToastGroupingOptions } from '../../src/extension/presenters/toast-grouping.ts';
import { ManualClock } from '../support/manual-clock.ts';

const OPTIONS: ToastGroupingOptions = { settleMs: 500, maxHoldMs: 2000, summaryAt: 4 };

function toast(message: string, severity: ToastView['severity'] = 'info'): ToastView {
  return { severity, message, actions: [] };
}

function grouper() {
  const clock = new ManualClock();
  const shown: ToastView[] = [];
  const g = new ToastGrouper((v) => shown.push(v), OPTIONS, clock);
  return { clock, shown, g };
}

test('a single-task run that fails is one toast, not a task toast and a run toast', () => {
  const { clock, shown, g } = grouper();
  g.taskFailed('r1', true, toast('Task a of r1 failed: boom', 'error'));
  g.outcome('r1', 'failed', toast('r1 failed: task a failed: boom', 'error'));
  clock.advance(500);
  assert.deepEqual(
    shown.map((v) => v.message),
    ['r1 failed: task a failed: boom'],
  );
});

test("a workflow task's failure folds into its run's failure when both arrive together", () => {
  const { clock, shown, g } = grouper();
  g.taskFailed('r1', false, toast('Task build of r1 failed', 'error'));
  clock.advance(200);
  g.outcome('r1', 'failed', toast('r1 failed: task build failed', 'error'));
  clock.advance(500);
  assert.deepEqual(
    shown.map((v) => v.message),
    ['r1 failed: task build failed'],
  );
});

test('a task failure in a run that goes on is shown on its own, after the quiet time', () => {
  const { clock, shown, g } = grouper();
  g.taskFailed('r1', false, toast('Task lint of r1 failed', 'error'));
  clock.advance(499);
  assert.equal(shown.length, 0, 'held while more may come');
  clock.advance(1);
  assert.deepEqual(
    shown.map((v) => v.message),
    ['Task lint of r1 failed'],
  );
});

test('many runs finishing close together are one summary with Show Runs', () => {
  const { clock, shown, g } = grouper();
  for (let i = 0; i < 12; i++) {
    g.outcome(`r${i}`, i < 10 ? 'completed' : 'failed', toast(`r${i} done`));
    clock.advance(100);
  }
  clock.advance(500);
  assert.equal(shown.length, 1, 'one toast for twelve runs');
  assert.equal(shown[0]!.message, 'Orchestr8: 12 runs finished: 10 succeeded, 2 failed.');
  assert.equal(shown[0]!.severity, 'error', 'a failure among them shows as an error');
  assert.deepEqual(shown[0]!.actions, [{ title: 'Show Runs', command: 'orchestr8.runs.focus', args: [] }]);
});

test('a few outcomes are still shown one by one, each with its own buttons', () => {
  const { clock, shown, g } = grouper();
  g.outcome('r1', 'completed', toast('r1 completed'));
  g.outcome('r2', 'cancelled', toast('r2 cancelled', 'warning'));
  g.outcome('r3', 'completed', toast('r3 completed'));
  clock.advance(500);
  assert.deepEqual(
    shown.map((v) => v.message),
    ['r1 completed', 'r2 cancelled', 'r3 completed'],
  );
});

test('a steady stream is summarised at least every maxHoldMs, not held forever', () => {
  const { clock, shown, g } = grouper();
  for (let i = 0; i < 30; i++) {
    g.outcome(`r${i}`, 'completed', toast(`r${i}`));
    clock.advance(200);
  }
  // 30 finishes over 6 s, one every 200 ms (never 500 ms quiet): a summary every 2 s.
  clock.advance(500);
  assert.deepEqual(
    shown.map((v) => v.message),
    Array(3).fill('Orchestr8: 10 runs finished: 10 succeeded.'),
  );
});

test('hidden toasts (the level filtered them) are not counted; dispose drops what is held', () => {
  const { clock, shown, g } = grouper();
  for (let i = 0; i < 5; i++) g.outcome(`r${i}`, 'completed', undefined);
  g.outcome('r9', 'failed', toast('r9 failed', 'error'));
  clock.advance(500);
  assert.deepEqual(
    shown.map((v) => v.message),
    ['r9 failed'],
  );
  g.outcome('r10', 'failed', toast('r10 failed', 'error'));
  g.dispose();
  clock.advance(5000);
  assert.equal(shown.length, 1);
});
