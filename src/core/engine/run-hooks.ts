import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import type { TaskOutput } from '../runners/task-runner.ts';
import type { EngineApi } from './engine-api.ts';

/** Where one attempt of a task works, or the work it already did (found committed after a crash, or merged by hand). */
export interface PreparedTask {
  /** Folder the attempt works in (the task's own worktree); the run's folder when unset. */
  cwd?: string;
  /** The task's work is already done: the attempt completes with this output without running again. */
  done?: TaskOutput;
}

/**
 * What a hook may use of the engine that calls it, handed to every call: hooks are made before
 * the engine opens (and it calls them while it opens, finalizing runs a dead owner left).
 */
export interface HookContext {
  /** Reads for a pull request's summary, and `launch` for a hook that starts an agent (a merge conflict's resolver). */
  readonly engine: Pick<EngineApi, 'gates' | 'usage' | 'status' | 'launch'>;
  /** Durably records part of what the run delivered, now (what a failing `runFinished` got done before it failed). */
  recordDelivery(runId: string, patch: RunDelivery): Promise<void>;
}

/**
 * Extension points around a run, used by adapters that do more than execute tasks
 * (git worktrees, commits, pull requests). Each hook must be idempotent: after a
 * crash it may be called again for the same run or task.
 */
export interface RunHooks {
  /** Before the run's first task starts; may move the run into another folder (a git worktree). */
  prepareRun?(run: RunRecord, ctx: HookContext): Promise<{ cwd?: string; delivery?: RunDelivery } | void>;
  /**
   * Before each attempt of a task starts (and again when an interrupted one resumes): may give it a
   * folder of its own (a git worktree branched from the run's branch). Throwing fails the attempt.
   */
  prepareTask?(run: RunRecord, task: TaskRecord, ctx: HookContext): Promise<PreparedTask | void>;
  /** After a task completed and before its dependents start; throwing fails the task instead (a merge conflict). */
  taskCompleted?(run: RunRecord, task: TaskRecord, result: TaskResult, ctx: HookContext): Promise<void>;
  /** After the run reached a final state; the returned delivery (a push, a pull request) is merged into the run's. */
  runFinished?(run: RunRecord, tasks: TaskRecord[], ctx: HookContext): Promise<{ delivery?: RunDelivery } | void>;
}
