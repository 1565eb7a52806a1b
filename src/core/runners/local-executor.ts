import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import type { TaskExecutor } from './task-executor.ts';
import type { TaskContext, TaskOutput, TaskRunner } from './task-runner.ts';
import { TaskError, abortReason } from './task-runner.ts';

/** Runs tasks in this process with the runner for their kind, at most `concurrency` at once. */
export class LocalExecutor implements TaskExecutor {
  private readonly runners = new Map<string, TaskRunner>();
  private readonly limit: LimitFunction;

  constructor(runners: Iterable<TaskRunner>, concurrency: number) {
    for (const runner of runners) this.runners.set(runner.kind, runner);
    this.limit = pLimit(concurrency);
  }

  /** Changes the global limit on the fly (a settings change in the editor). */
  setConcurrency(concurrency: number): void {
    this.limit.concurrency = concurrency;
  }

  freeSlots(): number {
    return Math.max(0, this.limit.concurrency - this.limit.activeCount - this.limit.pendingCount);
  }

  execute(ctx: TaskContext): Promise<TaskOutput> {
    const runner = this.runners.get(ctx.action.kind);
    if (!runner) {
      const hint = ctx.action.kind === 'agent' ? ' (agent tasks need the agent runner; see README "Agents")' : '';
      return Promise.reject(new TaskError(`no runner for ${ctx.action.kind} tasks in this process${hint}`, false));
    }
    // Aborted while it waited for a slot, or before it was handed over (its engine shut down
    // while its start was being written): start nothing that no one will wait for.
    return this.limit(() => {
      const reason = abortReason(ctx.signal);
      return reason ? Promise.reject(new TaskError(reason)) : runner.execute(ctx);
    });
  }

  async close(): Promise<void> {
    this.limit.clearQueue();
  }
}
