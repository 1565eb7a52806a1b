import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';

/**
 * Extension points around a run, used by adapters that do more than execute tasks
 * (git worktrees, commits, pull requests). Each hook must be idempotent: after a
 * crash it may be called again for the same run or task.
 */
export interface RunHooks {
  /** Before the run's first task starts; may move the run into another folder (a git worktree). */
  prepareRun?(run: RunRecord): Promise<{ cwd?: string; delivery?: RunDelivery } | void>;
  /** After a task completed and before its dependents start. */
  taskCompleted?(run: RunRecord, task: TaskRecord, result: TaskResult): Promise<void>;
  /** After the run reached a final state; the returned delivery (a push, a pull request) is merged into the run's. */
  runFinished?(run: RunRecord, tasks: TaskRecord[]): Promise<{ delivery?: RunDelivery } | void>;
}
