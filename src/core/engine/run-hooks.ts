import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';

/**
 * Extension points around a run, used by adapters that do more than execute tasks
 * (git worktrees, commits, pull requests). Each hook must be idempotent: after a
 * crash it may be called again for the same run or task.
 */
export interface RunHooks {
  /** Before the run's first task starts; may move the run into another folder (a git worktree). */
  prepareRun?(run: RunRecord): Promise<{ cwd?: string; options?: Record<string, unknown> } | void>;
  /** After a task completed and before its dependents start. */
  taskCompleted?(run: RunRecord, task: TaskRecord, result: TaskResult): Promise<void>;
  /** After the run reached a final state; returned options (a pull request URL, …) are merged into the run. */
  runFinished?(run: RunRecord, tasks: TaskRecord[]): Promise<{ options?: Record<string, unknown> } | void>;
}
