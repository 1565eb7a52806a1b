import type { InputAnswer, InputRequest } from '../model/input-request.ts';
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

  /** queued → running: an attempt starts, or an interrupted one is resumed under its own number. */
  start: (t: TaskRecord, now: number, owner: number) =>
    move(without(t, 'error', 'notBefore', 'pid', 'finishedAt', 'interrupted'), 'start', ['queued'], 'running', now, {
      attempt: t.interrupted === undefined ? t.attempt + 1 : t.attempt,
      startedAt: now,
      owner,
    }),

  /** queued → waiting: a `wait` task starts waiting for its signal. */
  awaitSignal: (t: TaskRecord, now: number) =>
    move(without(t, 'error', 'notBefore'), 'wait for a signal on', ['queued'], 'waiting', now, { attempt: t.attempt + 1, startedAt: now }),

  /** Records the process group of the running attempt; not a state change. */
  attachProcess: (t: TaskRecord, now: number, pid: number) => move(t, 'attach a process to', ['running'], 'running', now, { pid }),

  /** Records whether the running attempt's commands ran in the OS sandbox; not a state change. */
  noteSandboxed: (t: TaskRecord, now: number, sandboxed: boolean) => move(t, 'note the sandbox of', ['running'], 'running', now, { sandboxed }),

  /**
   * running → needs-input: the attempt stopped on a question to the user (its conversation is
   * checkpointed); it resumes, under the same attempt number, once answered.
   */
  park: (t: TaskRecord, now: number, request: InputRequest) => move(without(t, 'pid', 'owner'), 'park', ['running'], 'needs-input', now, { request }),

  /** needs-input → queued: answered; the next start resumes the parked attempt, which applies the answer. */
  answer: (t: TaskRecord, now: number, answer: InputAnswer) =>
    move(without(t, 'request'), 'answer', ['needs-input'], 'queued', now, {
      answers: [...(t.answers ?? []), answer],
      interrupted: `answered: ${answer.decision}`,
      queuedAt: now,
    }),

  /**
   * running → queued, resuming the same attempt later: its run paused (the API's quota ran
   * out, or the user paused it). Not an interruption: nothing went wrong with the engine.
   */
  hold: (t: TaskRecord, now: number, why: string) => move(without(t, 'pid', 'owner'), 'hold', ['running'], 'queued', now, { interrupted: why, queuedAt: now }),

  /** running | waiting → completed. */
  complete: (t: TaskRecord, now: number) => move(without(t, 'pid', 'error'), 'complete', ['running', 'waiting'], 'completed', now, { finishedAt: now }),

  /** running → queued: the attempt failed and another is due at `notBefore`. */
  retryLater: (t: TaskRecord, now: number, error: string, notBefore: number) =>
    move(without(t, 'pid'), 'retry', ['running'], 'queued', now, { error, notBefore, queuedAt: now }),

  /**
   * running → queued without using up an attempt: the engine running it stopped (`why`), cleanly
   * or by dying (`stalled`). Both are counted; the caller fails a stalled task instead once
   * `hasResumesLeft` says no.
   */
  interrupt: (t: TaskRecord, now: number, why: string, stalled: boolean) =>
    move(without(t, 'pid', 'owner'), 'interrupt', ['running'], 'queued', now, {
      interruptions: (t.interruptions ?? 0) + 1,
      ...(stalled ? { stalls: (t.stalls ?? 0) + 1 } : {}),
      interrupted: why,
      queuedAt: now,
    }),

  /**
   * running | waiting | queued | needs-input → failed: attempts exhausted, a timeout on a wait, too
   * many interruptions, nothing can run it, or stopped at its budget.
   */
  fail: (t: TaskRecord, now: number, error: string) =>
    move(without(t, 'pid', 'interrupted', 'request'), 'fail', ['running', 'waiting', 'queued', 'needs-input'], 'failed', now, { error, finishedAt: now }),

  /** Any unfinished state → cancelled. */
  cancel: (t: TaskRecord, now: number) =>
    move(without(t, 'pid', 'notBefore', 'interrupted', 'request'), 'cancel', ['pending', 'queued', 'running', 'waiting', 'needs-input'], 'cancelled', now, {
      finishedAt: now,
    }),

  /** pending → skipped: a need failed or was cancelled. */
  skip: (t: TaskRecord, now: number, reason: string) => move(t, 'skip', ['pending'], 'skipped', now, { error: reason, finishedAt: now }),

  /** failed | cancelled | skipped → pending: the user retries; the retry budget and interruptions start over, attempt numbers go on. */
  reset: (t: TaskRecord, now: number) =>
    move(
      without(
        t,
        'error',
        'notBefore',
        'startedAt',
        'finishedAt',
        'queuedAt',
        'pid',
        'owner',
        'interruptions',
        'stalls',
        'interrupted',
        'answers',
        'mergeConflict',
      ),
      'retry',
      ['failed', 'cancelled', 'skipped'],
      'pending',
      now,
      {
        attemptBase: t.attempt,
      },
    ),

  /**
   * completed | failed | cancelled → pending: Continue… on an agent task. A new attempt takes up its
   * conversation with `prompt`; like a retry, the retry budget starts over and attempt numbers go on.
   */
  followUp: (t: TaskRecord, now: number, prompt: string) =>
    move(
      without(t, 'error', 'notBefore', 'startedAt', 'finishedAt', 'queuedAt', 'pid', 'owner', 'interruptions', 'stalls', 'interrupted'),
      'continue',
      ['completed', 'failed', 'cancelled'],
      'pending',
      now,
      {
        attemptBase: t.attempt,
        followUps: [...(t.followUps ?? []), prompt],
      },
    ),
} as const;

/**
 * Stalls (its engine died under it) a task survives: the next one fails it. Like BullMQ's
 * stalled count, this stops a task that takes its engine down every time (out of memory, say)
 * from looping forever. Clean shutdowns (a reload, closing the editor) are not counted.
 */
export const MAX_STALLS = 3;

/** True when a task whose engine just died under it may be resumed once more. */
export function hasResumesLeft(task: TaskRecord): boolean {
  return (task.stalls ?? 0) < MAX_STALLS;
}
