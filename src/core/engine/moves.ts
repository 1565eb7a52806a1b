import type { EngineEvent } from '../model/events.ts';
import type { InputAnswer, InputRequest } from '../model/input-request.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import { mergeDelivery, type RunDelivery } from '../model/run-delivery.ts';
import type { RunState } from '../model/task-state.ts';
import { runFinishedNotification, taskFailedNotification } from '../notifications/notification-builder.ts';
import { MAX_STALLS, TaskMachine, hasResumesLeft } from '../scheduler/task-machine.ts';
import type { StoreRecord } from '../store/store-records.ts';
import { crashPoint } from '../util/crash-points.ts';
import type { ActiveRun } from './active-run.ts';

/**
 * The only place a run's or a task's state is set. Each move changes the engine's in-memory
 * record and writes that record and the event announcing it into one batch, so what is
 * stored, what is announced and what the engine believes never part (as BullMQ's
 * Job.moveToCompleted does in one script). Scheduling (queues, timers) stays with the callers.
 */

/** A new run and its tasks; active once the batch is durable. */
export function launchRun(batch: Batch, active: ActiveRun): void {
  const tasks = [...active.tasks.values()];
  batch.record({ t: 'run', run: active.run }, { type: 'workflow.launched', run: active.run, tasks });
  for (const t of tasks) batch.record({ t: 'task', task: t });
  batch.starts(active);
}

/** A finished run put back into play (a retry); active again once the batch is durable. */
export function resumeRun(batch: Batch, active: ActiveRun): void {
  const { finishedAt: _finished, finalized: _finalized, ...rest } = active.run;
  active.run = { ...rest, state: 'running' };
  batch.record({ t: 'run', run: active.run }, { type: 'workflow.resumed', run: active.run });
  batch.starts(active);
}

/** The run reached a final state; `finalizing` when runFinished hooks still have to deliver it. */
export function finishRun(batch: Batch, active: ActiveRun, state: Exclude<RunState, 'running' | 'paused'>, now: number, finalizing: boolean): TaskRecord[] {
  active.run = { ...active.run, state, finishedAt: now, finalized: !finalizing };
  const tasks = [...active.tasks.values()];
  batch.record({ t: 'run', run: active.run }, { type: `workflow.${state}`, run: active.run } as EngineEvent);
  batch.record({ t: 'notification', notification: runFinishedNotification(active.run, tasks, now) });
  batch.finishes(active);
  crashPoint('run.finishing');
  return tasks;
}

/** The run pauses: no task of it starts until `unpauseRun` (at `until`, or by hand). */
export function pauseRun(batch: Batch, active: ActiveRun, reason: string, now: number, until?: number): void {
  active.run = { ...active.run, state: 'paused', pause: { reason, since: now, ...(until !== undefined ? { until } : {}) } };
  batch.record({ t: 'run', run: active.run }, { type: 'workflow.paused', run: active.run });
}

/** A paused run goes on. */
export function unpauseRun(batch: Batch, active: ActiveRun): void {
  const { pause: _pause, ...rest } = active.run;
  active.run = { ...rest, state: 'running' };
  batch.record({ t: 'run', run: active.run }, { type: 'workflow.unpaused', run: active.run });
}

/** The run's own record changed outside its state machine (a rule allowed for the run, a raised budget): announced as `run.updated`. */
export function updateRun(batch: Batch, active: ActiveRun, run: RunRecord): void {
  active.run = run;
  batch.record({ t: 'run', run }, { type: 'run.updated', run });
}

/** What a run delivered changed: the run's new record and its `run.delivered` event. */
export function deliver(batch: Batch, run: RunRecord, patch: RunDelivery, active?: ActiveRun): RunRecord {
  const delivery = mergeDelivery(run.delivery, patch);
  const { delivery: _old, ...rest } = run;
  const updated: RunRecord = Object.keys(delivery).length ? { ...rest, delivery } : rest;
  if (active) active.run = updated;
  batch.record({ t: 'run', run: updated }, { type: 'run.delivered', run: updated });
  return updated;
}

/** A pending task whose needs are met: ready to be dispatched (or, a wait task, to wait). */
export function queue(batch: Batch, active: ActiveRun, task: TaskRecord, now: number): TaskRecord {
  return set(batch, active, TaskMachine.ready(task, now), 'task.queued');
}

/** A pending task whose needs can no longer be met. */
export function skip(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, reason: string): TaskRecord {
  return set(batch, active, TaskMachine.skip(task, now, reason), 'task.skipped');
}

export function cancel(batch: Batch, active: ActiveRun, task: TaskRecord, now: number): TaskRecord {
  return set(batch, active, TaskMachine.cancel(task, now), 'task.cancelled');
}

/** A failed, cancelled or skipped task back to pending (a retry). */
export function reset(batch: Batch, active: ActiveRun, task: TaskRecord, now: number): TaskRecord {
  return set(batch, active, TaskMachine.reset(task, now), 'task.reset');
}

/** A finished agent task back to pending with a follow-up prompt (Continue…); announced as a reset. */
export function followUp(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, prompt: string): TaskRecord {
  return set(batch, active, TaskMachine.followUp(task, now, prompt), 'task.reset');
}

/** A ready wait task starts waiting for its signal. */
export function awaitSignal(batch: Batch, active: ActiveRun, task: TaskRecord, now: number): TaskRecord {
  return set(batch, active, TaskMachine.awaitSignal(task, now), 'task.waiting');
}

/** An attempt starts in this process. */
export function start(batch: Batch, active: ActiveRun, queued: TaskRecord, now: number, pid: number): TaskRecord {
  const task = TaskMachine.start(queued, now, pid);
  active.tasks.set(task.key, task);
  batch.record({ t: 'task', task }, { type: 'task.started', task });
  return task;
}

/** The running attempt's process is known (a shell task's group): recorded so a next owner can reap it. */
export function attachProcess(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, pid: number): TaskRecord {
  const updated = TaskMachine.attachProcess(task, now, pid);
  active.tasks.set(task.key, updated);
  batch.record({ t: 'task', task: updated });
  return updated;
}

/** The running attempt's commands ran sandboxed, or unconfined (the tree says which). */
export function noteSandboxed(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, sandboxed: boolean): TaskRecord {
  const updated = TaskMachine.noteSandboxed(task, now, sandboxed);
  active.tasks.set(task.key, updated);
  batch.record({ t: 'task', task: updated });
  return updated;
}

/** The attempt stopped on a question to the user: parked until answered. */
export function park(batch: Batch, active: ActiveRun, task: TaskRecord, request: InputRequest, now: number): TaskRecord {
  return set(batch, active, TaskMachine.park(task, now, request), 'task.needs-input');
}

/** The user answered a parked task: queued to resume its attempt. */
export function answer(batch: Batch, active: ActiveRun, task: TaskRecord, reply: InputAnswer, now: number): TaskRecord {
  return set(batch, active, TaskMachine.answer(task, now, reply), 'task.answered');
}

/** A running attempt stops because its run paused: queued to resume later, the same attempt. */
export function hold(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, why: string): TaskRecord {
  return set(batch, active, TaskMachine.hold(task, now, why), 'task.queued');
}

/** A task completed (an attempt succeeded, or a wait task was signalled), with its result. */
export function complete(batch: Batch, active: ActiveRun, task: TaskRecord, result: TaskResult, now: number): TaskRecord {
  const done = set(batch, active, TaskMachine.complete(task, now));
  batch.record({ t: 'result', result }, { type: 'task.completed', task: done, result });
  return done;
}

/** An attempt failed with attempts left: queued again, not before `delayMs`. */
export function retryLater(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, message: string, delayMs: number): TaskRecord {
  const queued = TaskMachine.retryLater(task, now, message, now + delayMs);
  active.tasks.set(queued.key, queued);
  batch.record({ t: 'task', task: queued }, { type: 'task.retrying', task: queued, error: message, delayMs });
  return queued;
}

/** A task failed for good; a workflow's run also notifies about it. */
export function fail(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, message: string): TaskRecord {
  const failed = TaskMachine.fail(task, now, message);
  active.tasks.set(failed.key, failed);
  batch.record({ t: 'task', task: failed }, { type: 'task.failed', task: failed, error: message });
  if (!active.run.single) batch.record({ t: 'notification', notification: taskFailedNotification(active.run, failed, now) });
  return failed;
}

/**
 * Interrupted (the engine running it stopped cleanly, or died: `stalled`): queued again to
 * resume the same attempt, or, stalled past the bound, failed.
 */
export function interrupt(batch: Batch, active: ActiveRun, task: TaskRecord, now: number, why: string, stalled: boolean): TaskRecord {
  if (stalled && !hasResumesLeft(task)) {
    const times = (task.stalls ?? 0) + 1;
    const message = `its engine died under it ${times} times; at most ${MAX_STALLS} are resumed (the last: ${why})`;
    return fail(batch, active, { ...task, interruptions: (task.interruptions ?? 0) + 1, stalls: times }, now, message);
  }
  const queued = TaskMachine.interrupt(task, now, why, stalled);
  active.tasks.set(queued.key, queued);
  batch.record({ t: 'task', task: queued }, { type: 'task.interrupted', task: queued, reason: why });
  return queued;
}

function set(
  batch: Batch,
  active: ActiveRun,
  task: TaskRecord,
  event?: 'task.queued' | 'task.skipped' | 'task.cancelled' | 'task.waiting' | 'task.reset' | 'task.needs-input' | 'task.answered',
): TaskRecord {
  active.tasks.set(task.key, task);
  batch.record({ t: 'task', task }, event ? { type: event, task } : undefined);
  return task;
}

/** Records and the events they announce, committed together. */
export class Batch {
  readonly records: StoreRecord[] = [];
  readonly events: EngineEvent[] = [];
  /** Per event, the index of its `event` record: its seq is the batch's first seq plus that. */
  readonly eventRecords: number[] = [];
  /** Runs this batch launches or resumes: active once it is durable. */
  readonly starting: ActiveRun[] = [];
  /** Runs this batch finishes: no longer active once it is durable. */
  readonly finishing: ActiveRun[] = [];
  private readonly after: (() => void)[] = [];
  private readonly rows = new Map<string, number>();
  private outcome: { settled: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  private committed: { error?: unknown } | undefined;

  /** A batch of records that change no run's or task's state machine and announce nothing (usage, checkpoints, the outbox). */
  static of(records: StoreRecord[]): Batch {
    const batch = new Batch();
    for (const record of records) batch.record(record);
    return batch;
  }

  get empty(): boolean {
    return this.records.length === 0;
  }

  record(record: StoreRecord, event?: EngineEvent): void {
    // A row changed twice in one batch (pending → queued) needs only its last state (compacted on commit).
    const row = record.t === 'task' ? `task ${record.task.id}` : record.t === 'run' ? `run ${record.run.id}` : undefined;
    const at = row === undefined ? undefined : this.rows.get(row);
    if (at !== undefined) this.records[at] = record;
    else {
      if (row !== undefined) this.rows.set(row, this.records.length);
      this.records.push(record);
    }
    if (!event) return;
    this.events.push(event);
    this.eventRecords.push(this.records.length);
    this.records.push({ t: 'event', event: storedEvent(event, Date.now()) });
  }

  starts(active: ActiveRun): void {
    this.starting.push(active);
  }

  /** The run this batch launches or resumes, if it is `runId`: its tasks may start in the same batch. */
  startingRun(runId: string): ActiveRun | undefined {
    return this.starting.find((active) => active.run.id === runId);
  }

  /**
   * Settles once the engine has committed this batch (durable, the engine's view and listeners
   * updated) or failed to. An attempt whose start is in this batch executes only then: deciding
   * the start in the same batch as a completion saves an fsync, beginning it before then would
   * act on a change that could be lost.
   */
  get durable(): Promise<void> {
    if (!this.outcome) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const settled = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      settled.catch(() => {}); // the commit's caller is told too; an attempt waiting on it handles it itself
      this.outcome = { settled, resolve, reject };
      if (this.committed) this.settle(this.committed.error);
    }
    return this.outcome.settled;
  }

  /** Called by the commit, once: see `durable`. */
  settle(error?: unknown): void {
    this.committed = error === undefined ? {} : { error };
    if (error === undefined) this.outcome?.resolve();
    else this.outcome?.reject(error);
  }

  finishes(active: ActiveRun): void {
    this.finishing.push(active);
  }

  afterCommit(fn: () => void): void {
    this.after.push(fn);
  }

  runAfterCommit(): void {
    for (const fn of this.after) fn();
  }
}

export function storedEvent(event: EngineEvent, at: number): { type: string; at: number; runId?: string; taskId?: string; detail?: string } {
  switch (event.type) {
    case 'workflow.launched':
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled':
    case 'workflow.resumed':
    case 'workflow.paused':
    case 'workflow.unpaused':
    case 'run.updated':
    case 'run.delivered':
      return { type: event.type, at, runId: event.run.id };
    case 'workflow.removed':
      return { type: event.type, at, detail: event.runIds.join(',') };
    case 'engine.storage':
      return { type: event.type, at, detail: event.reason };
    case 'task.progress':
      return { type: event.type, at, runId: event.runId, taskId: event.taskId };
    case 'task.interrupted':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.reason };
    case 'task.retrying':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.error };
    case 'task.failed':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.error };
    default:
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id };
  }
}
