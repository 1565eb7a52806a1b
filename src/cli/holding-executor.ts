import type { TaskExecutor } from '../core/runners/task-executor.ts';
import type { TaskOutput } from '../core/runners/task-runner.ts';

/**
 * An executor with no slots, for a CLI command that owns the state only for a moment
 * (`signal`, `retry`, `cancel` with no live owner): tasks that become ready stay queued
 * instead of starting and being cut short when the command exits; the background
 * owner started afterwards runs them.
 */
export class HoldingExecutor implements TaskExecutor {
  freeSlots(): number {
    return 0;
  }

  execute(): Promise<TaskOutput> {
    return Promise.reject(new Error('this process runs no tasks (it owns the state only for one command)'));
  }

  async close(): Promise<void> {}
}
