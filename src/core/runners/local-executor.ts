import type { TaskExecutor } from './task-executor.ts';
import type { TaskContext, TaskOutput, TaskRunner } from './task-runner.ts';
import { TaskError, abortReason } from './task-runner.ts';

/**
 * Runs tasks in this process with the runner for their kind, at most `concurrency` at once.
 * The engine's scheduler hands over no more attempts than `freeSlots()` says (and holds each
 * run to its own limit), so nothing ever waits here: counting the running tasks is the limit.
 */
export class LocalExecutor implements TaskExecutor {
  private readonly runners = new Map<string, TaskRunner>();
  private running = 0;

  constructor(
    runners: Iterable<TaskRunner>,
    private readonly concurrency: number,
  ) {
    for (const runner of runners) this.runners.set(runner.kind, runner);
  }

  freeSlots(): number {
    return Math.max(0, this.concurrency - this.running);
  }

  execute(ctx: TaskContext): Promise<TaskOutput> {
    const runner = this.runners.get(ctx.action.kind);
    if (!runner) {
      const hint = ctx.action.kind === 'agent' ? ' (agent tasks need the agent runner; see README "Agents")' : '';
      return Promise.reject(new TaskError(`no runner for ${ctx.action.kind} tasks in this process${hint}`, false));
    }
    // Aborted before it was handed over (its engine shut down while its start was being
    // written): start nothing that no one will wait for.
    const reason = abortReason(ctx.signal);
    if (reason) return Promise.reject(new TaskError(reason));
    this.running++;
    // Freed before the caller hears the outcome: the pass that follows sees the slot.
    return runner.execute(ctx).finally(() => this.running--);
  }

  async close(): Promise<void> {
    // Nothing waits here; the engine aborts the attempts still running.
  }
}
