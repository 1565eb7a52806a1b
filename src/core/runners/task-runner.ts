import type { MergeConflict, RunRecord, TaskRecord, TokenUsageRecord, QualityGateRecord } from '../model/records.ts';
import type { TaskAction } from '../model/workflow.ts';
import type { EngineApi } from '../engine/engine-api.ts';
import type { Logger } from '../util/logger.ts';

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
  /** The engine itself, for runners that launch sub-tasks (agents). */
  readonly engine: EngineApi;
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
  /** Durably saves resumable state (e.g. an agent conversation after each turn). */
  saveCheckpoint(state: unknown): Promise<void>;
  recordUsage(usage: Omit<TokenUsageRecord, 'taskId' | 'runId' | 'createdAt'>): Promise<void>;
  recordGate(gate: Omit<QualityGateRecord, 'taskId' | 'runId' | 'createdAt'>): Promise<void>;
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
