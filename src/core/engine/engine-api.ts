import type { TranscriptEntry } from '../agents/transcript.ts';
import type { EngineEvent } from '../model/events.ts';
import type { NotificationRecord, QualityGateRecord, RunRecord, TaskRecord, TaskResult, TokenUsageRecord } from '../model/records.ts';
import type { RunState } from '../model/task-state.ts';
import type { Budget, InputReply } from '../model/input-request.ts';
import type { TaskAction, WorkflowDef } from '../model/workflow.ts';
import type { Disposable } from '../util/disposable.ts';
import type { TaskId } from '../util/ids.ts';

/** One task launched on its own (TaskAsync): a run with a single task. */
export interface SingleTaskSpec {
  name?: string;
  action: TaskAction;
  timeoutMs?: number;
  retries?: number;
  /** An agent task's spending limit, as `budget:` in a workflow file (none: the default setting's). */
  budget?: Budget;
}

export type LaunchRequest =
  | { workflow: WorkflowDef; inputs?: Record<string, string>; cwd?: string; id?: string }
  | { task: SingleTaskSpec; cwd?: string; id?: string };

export interface LaunchResult {
  runId: string;
  taskIds: TaskId[];
}

export interface RunStatus {
  run: RunRecord;
  /** In workflow file order. */
  tasks: TaskRecord[];
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  states?: RunState[];
}

export interface RunPage {
  runs: RunRecord[];
  total: number;
}

/** How a `wait` task is answered. */
export interface SignalOptions {
  /** Fails the task instead of completing it; the payload is the reason. */
  reject?: boolean;
}

/** Token and cost totals of a task or run. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costUsd: number;
}

/**
 * The one API every front end uses (extension, CLI, HTTP, MCP). Ids may be a run
 * id, a unique prefix of one, or a task id (`<runId>.<key>`).
 */
export interface EngineApi {
  /** Resolves as soon as the launch is durable; tasks run in the background. */
  launch(request: LaunchRequest): Promise<LaunchResult>;
  status(runId: string): Promise<RunStatus>;
  task(taskId: string): Promise<TaskRecord>;
  result(taskId: string): Promise<TaskResult | undefined>;
  /** Cancels a run (all unfinished tasks) or one task (and skips its dependents). */
  cancel(id: string): Promise<void>;
  /** Puts failed, cancelled and skipped tasks of a run (or one task and its dependents) back into play. */
  retry(id: string): Promise<void>;
  /**
   * Answers a `wait` task: completes it with an optional payload as its result, or, with
   * `reject`, fails it ("rejected: <payload>"), so its dependents are skipped.
   */
  signal(taskId: string, payload?: string, options?: SignalOptions): Promise<void>;
  /**
   * Answers the request of a task in `needs-input`: a permission allowed (once, or `always` for
   * the rest of the run) or denied (`reason` goes to the agent as the tool's result); a budget
   * raised (`allow`, by `raise` or by the budget again) or stopped (`deny`: the task fails).
   */
  answer(taskId: string, reply: InputReply): Promise<void>;
  /** Pauses a running run: nothing new starts, running agents stop after their current turn. */
  pause(runId: string, reason?: string): Promise<void>;
  /** Resumes a paused run (paused by hand, or on quota before its retry time). */
  resume(runId: string): Promise<void>;
  /**
   * Continue…: sends `prompt` to a finished agent task, which continues its conversation from its
   * checkpoint in a new attempt, in the run's folder (its worktree); a finished run is resumed and
   * finishes (commits, pushes) again. Tasks that needed it are not run again.
   */
  followUp(taskId: string, prompt: string): Promise<void>;
  list(options?: ListOptions): Promise<RunPage>;
  usage(id: string): Promise<UsageTotals>;
  gates(runId: string): Promise<QualityGateRecord[]>;
  tokenUsage(taskId: string): Promise<TokenUsageRecord[]>;
  /** The task's log so far. */
  log(taskId: string): Promise<string>;
  /** An agent task's conversation so far (from its checkpoint); empty for other tasks. */
  transcript(taskId: string): Promise<TranscriptEntry[]>;
  /** Notifications nobody has seen yet, oldest first. */
  undeliveredNotifications(): Promise<NotificationRecord[]>;
  markDelivered(ids: string[]): Promise<void>;
  /** Removes finished runs (all, or those finished before `before`). */
  clearFinished(before?: number): Promise<number>;
  onEvent(listener: (event: EngineEvent) => void): Disposable;
}
