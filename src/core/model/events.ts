import type { RunRecord, TaskRecord, TaskResult } from './records.ts';

/**
 * Engine events. Every event but `task.progress` and `engine.storage` describes a transition
 * that is already durable when listeners hear of it, and carries the journal `seq` of its record.
 */
export type EngineEvent = EventCursor &
  /** A run was launched; its tasks follow as task.queued / pending. */
  (
    | { type: 'workflow.launched'; run: RunRecord; tasks: TaskRecord[] }
    /** The task is ready and waits for a slot (or for its retry delay). */
    | { type: 'task.queued'; task: TaskRecord }
    | { type: 'task.started'; task: TaskRecord }
    /** Live output of a running task (not persisted as an event; the task log holds it). */
    | { type: 'task.progress'; taskId: string; runId: string; text: string }
    /** A `wait` task is waiting for its signal. */
    | { type: 'task.waiting'; task: TaskRecord }
    /** The task's attempt parked on a question to the user (`task.request`: a permission, its budget); nothing runs until answered. */
    | { type: 'task.needs-input'; task: TaskRecord }
    /** The user answered the task's request (the answer is the last of `task.answers`); it is queued to resume. */
    | { type: 'task.answered'; task: TaskRecord }
    /**
     * The engine running an attempt stopped (a crash, a reload, a shutdown); the task is queued
     * to resume that attempt without spending one. Not a failure: `reason` says why it stopped.
     */
    | { type: 'task.interrupted'; task: TaskRecord; reason: string }
    /** An attempt failed and another one is scheduled after `delayMs`. */
    | { type: 'task.retrying'; task: TaskRecord; error: string; delayMs: number }
    | { type: 'task.completed'; task: TaskRecord; result: TaskResult }
    | { type: 'task.failed'; task: TaskRecord; error: string }
    | { type: 'task.cancelled'; task: TaskRecord }
    | { type: 'task.skipped'; task: TaskRecord }
    /** A finished task was put back into play by `retry`. */
    | { type: 'task.reset'; task: TaskRecord }
    | { type: 'workflow.completed'; run: RunRecord }
    | { type: 'workflow.failed'; run: RunRecord }
    | { type: 'workflow.cancelled'; run: RunRecord }
    /** A finished run was put back into play by `retry`. */
    | { type: 'workflow.resumed'; run: RunRecord }
    /** The run paused (`run.pause` says why and until when): no task of it starts; running agents stop after their turn. */
    | { type: 'workflow.paused'; run: RunRecord }
    /** A paused run goes on (its pause ran out, or the user resumed it). */
    | { type: 'workflow.unpaused'; run: RunRecord }
    /**
     * The run's record changed outside its state machine, durably: a rule "allowed for this run"
     * joined `run.allowed`, or its budget (`run.budget`) was raised. Listeners replace their copy.
     */
    | { type: 'run.updated'; run: RunRecord }
    /**
     * What the run delivered changed and is durable: its worktree and branch once prepared, its push
     * and pull request (`run.delivery.pullRequest`) once finalized. Also fired when finalization ends
     * (`run.finalized`), so listeners waiting for a pull request know that none is coming.
     */
    | { type: 'run.delivered'; run: RunRecord }
    /** Runs were removed from history. */
    | { type: 'workflow.removed'; runIds: string[] }
    /**
     * The owner's storage paused (a full disk: new work is refused, running tasks go on, their
     * results wait to be saved) or resumed by itself once writes succeeded again. Not persisted.
     */
    | { type: 'engine.storage'; state: 'paused' | 'resumed'; reason: string }
  );

/** Where an event stands in the journal: the cursor a listener remembers to resume after it. */
export interface EventCursor {
  /**
   * The journal sequence number of the record that made the event durable: increasing, and
   * what `GET /v1/events` takes as `Last-Event-ID`. Absent on events that are not persisted
   * (`task.progress`, `engine.storage`) and on events rebuilt from rows.
   */
  seq?: number;
  /** Rebuilt from the durable event table for a listener that missed it (see `replayEvents`): its records are as they are now. */
  replayed?: true;
}

export type EngineEventType = EngineEvent['type'];
export type EventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;

/** The events that carry one task's new state. */
export type TaskTransitionEvent = Extract<EngineEvent, { task: TaskRecord }>;

export function isTaskTransition(event: EngineEvent): event is TaskTransitionEvent {
  return 'task' in event;
}
