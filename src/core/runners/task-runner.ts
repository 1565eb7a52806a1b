import type { MergeConflict, RunRecord, TaskRecord, TokenUsageRecord, QualityGateRecord } from '../model/records.ts';
import type { TaskAction } from '../model/workflow.ts';
import type { EngineApi, UsageTotals } from '../engine/engine-api.ts';
import type { InputRequest } from '../model/input-request.ts';
import type { Logger } from '../util/logger.ts';

/** The part of the engine a runner may use: launch sub-tasks and follow them to their results. */
export type SubTasks = Pick<EngineApi, 'launch' | 'status' | 'task' | 'result' | 'onEvent'>;

/** Everything a runner may use while it executes one attempt of one task. */
export interface TaskContext {
  readonly task: TaskRecord;
  readonly run: RunRecord;
  /** The task's action with `${inputs.*}` and `${tasks.*.result}` already interpolated. */
  readonly action: TaskAction;
  /** Folder the task must work in (the run's worktree, or the project in place). */
  readonly cwd: string;
  /** Aborted on cancel, timeout, or engine shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Launching and following sub-tasks (an agent's `launch_task`); absent where no engine coordinates them (a BullMQ worker). */
  readonly subTasks?: SubTasks;
  /** Appends to the task log and emits `task.progress`. */
  log(text: string): void;
  /** Records the process group of a spawned child so a later owner can reap it after a crash. */
  setPid(pid: number): void;
  /**
   * Records on the task whether its commands run in the OS sandbox (`TaskRecord.sandboxed`), for
   * the tree. Optional: a context that cannot record it (a remote worker) leaves it out.
   */
  noteSandboxed?(sandboxed: boolean): void;
  /** Last state saved by `saveCheckpoint` for this task (any attempt), if any. */
  loadCheckpoint(): Promise<unknown | undefined>;
  /**
   * Durably saves resumable state (e.g. an agent conversation after each turn).
   *
   * This and `recordUsage`, `recordGate` may be left un-awaited by a runner right before it
   * returns its output: every executor stores them before the task's completion (the local one
   * because the journal writes commits in the order they are asked for, so they share the
   * completion's fsync or precede it; a BullMQ worker because it awaits them before completing
   * the job). If one fails, the completion does not land either.
   */
  saveCheckpoint(state: unknown): Promise<void>;
  recordUsage(usage: Omit<TokenUsageRecord, 'taskId' | 'runId' | 'createdAt'>): Promise<void>;
  recordGate(gate: Omit<QualityGateRecord, 'taskId' | 'runId' | 'createdAt'>): Promise<void>;
  /** What the task (or its whole run) has spent so far, every recorded turn included. Optional: a remote worker cannot read it. */
  spent?(scope: 'task' | 'run'): Promise<UsageTotals>;
  /** True once the run is paused: an agent stops after its current turn (throwing `PauseRun`) and resumes later. */
  runPaused?(): boolean;
}

/** What one successful attempt produced. */
export interface TaskOutput {
  /** Text result; what `${tasks.ID.result}` interpolates. */
  output: string;
  data?: unknown;
  exitCode?: number;
}

/** Executes tasks of one action kind (`run`, `agent`, `noop`, …). */
export interface TaskRunner {
  readonly kind: string;
  execute(ctx: TaskContext): Promise<TaskOutput>;
}

/** A failed attempt. `retryable: false` skips remaining retries (bad config, missing API key). */
export class TaskError extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

/** The task's work could not be merged into the run's branch: not retried by itself, the conflict is recorded on the task. */
export class MergeConflictError extends TaskError {
  constructor(
    message: string,
    readonly conflict: MergeConflict,
  ) {
    super(message, false);
    this.name = 'MergeConflictError';
  }
}

/** Why a task's signal was aborted. */
export type AbortReason = 'cancelled' | 'timeout' | 'shutdown';
export function abortReason(signal: AbortSignal): AbortReason | undefined {
  const r = signal.reason;
  return r === 'cancelled' || r === 'timeout' || r === 'shutdown' ? r : undefined;
}

/**
 * The attempt stops to ask the user (a permission its grant does not cover, a budget that would
 * be passed): the task parks in `needs-input` and resumes the same attempt, from its checkpoint,
 * once answered. Thrown only after the conversation so far is saved.
 */
export class NeedsInput extends Error {
  constructor(readonly request: InputRequest) {
    super(`needs input: ${request.kind} ${request.id}`);
    this.name = 'NeedsInput';
  }
}

/**
 * The attempt cannot go on now and its whole run should wait: the API's usage limit or credit is
 * exhausted, or it still answers overloaded / rate-limited after the SDK's retries (or the run was
 * paused by hand). The task is queued again to resume the same attempt; `retryAfterMs` is when
 * to try again, if the API said.
 */
export class PauseRun extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** `run-paused`: the attempt only saw its run was paused already (it must not pause it again if resumed meanwhile). */
    readonly why: 'quota' | 'run-paused' = 'quota',
  ) {
    super(message);
    this.name = 'PauseRun';
  }
}
