import type { TaskRecord } from '../model/records.ts';
import type { TaskState } from '../model/task-state.ts';

/** A move the state machine does not allow (a bug in the caller, or a stale command such as cancelling a finished task). */
export class IllegalTransitionError extends Error {
  constructor(task: TaskRecord, move: string) {
    super(`cannot ${move} task ${task.id}: it is ${task.state}`);
    this.name = 'IllegalTransitionError';
  }
}

function move(task: TaskRecord, name: string, from: readonly TaskState[], to: TaskState, now: number, changes: Partial<TaskRecord> = {}): TaskRecord {
  if (!from.includes(task.state)) throw new IllegalTransitionError(task, name);
  return { ...task, ...changes, state: to, updatedAt: now };
}

function without<K extends keyof TaskRecord>(task: TaskRecord, ...keys: K[]): TaskRecord {
  const copy = { ...task };
  for (const key of keys) delete copy[key];
  return copy;
}

/**
 * Every task state change, one named move each. Moves are pure: they return the
 * new record and the caller persists it. Nothing else assigns `state`.
 */
export const TaskMachine = {
  /** pending → queued: all needs are met. */
  ready: (t: TaskRecord, now: number) => move(t, 'ready', ['pending'], 'queued', now, { queuedAt: now }),

  /** queued → running: an attempt starts. */
  start: (t: TaskRecord, now: number, owner: number) =>
    move(without(t, 'error', 'notBefore', 'pid', 'finishedAt'), 'start', ['queued'], 'running', now, { attempt: t.attempt + 1, startedAt: now, owner }),

  /** queued → waiting: a `wait` task starts waiting for its signal. */
  awaitSignal: (t: TaskRecord, now: number) =>
    move(without(t, 'error', 'notBefore'), 'wait for a signal on', ['queued'], 'waiting', now, { attempt: t.attempt + 1, startedAt: now }),

  /** Records the process group of the running attempt; not a state change. */
  attachProcess: (t: TaskRecord, now: number, pid: number) => move(t, 'attach a process to', ['running'], 'running', now, { pid }),

  /** running | waiting → completed. */
  complete: (t: TaskRecord, now: number) => move(without(t, 'pid', 'error'), 'complete', ['running', 'waiting'], 'completed', now, { finishedAt: now }),

  /** running → queued: the attempt failed and another is due at `notBefore`. */
  retryLater: (t: TaskRecord, now: number, error: string, notBefore: number) =>
    move(without(t, 'pid'), 'retry', ['running'], 'queued', now, { error, notBefore, queuedAt: now }),

  /** running → queued without using up an attempt: the engine shut down under it. */
  interrupt: (t: TaskRecord, now: number) =>
    move(without(t, 'pid', 'owner'), 'interrupt', ['running'], 'queued', now, { attempt: Math.max(0, t.attempt - 1), queuedAt: now }),

  /** running | waiting | queued → failed: attempts exhausted, a timeout on a wait, or nothing can run it. */
  fail: (t: TaskRecord, now: number, error: string) => move(without(t, 'pid'), 'fail', ['running', 'waiting', 'queued'], 'failed', now, { error, finishedAt: now }),

  /** Any unfinished state → cancelled. */
  cancel: (t: TaskRecord, now: number) =>
    move(without(t, 'pid', 'notBefore'), 'cancel', ['pending', 'queued', 'running', 'waiting'], 'cancelled', now, { finishedAt: now }),

  /** pending → skipped: a need failed or was cancelled. */
  skip: (t: TaskRecord, now: number, reason: string) => move(t, 'skip', ['pending'], 'skipped', now, { error: reason, finishedAt: now }),

  /** failed | cancelled | skipped → pending: the user retries; attempts start over. */
  reset: (t: TaskRecord, now: number) =>
    move(without(t, 'error', 'notBefore', 'startedAt', 'finishedAt', 'queuedAt', 'pid', 'owner'), 'retry', ['failed', 'cancelled', 'skipped'], 'pending', now, { attempt: 0 }),
} as const;
