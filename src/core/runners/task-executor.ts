import type { TaskContext, TaskOutput } from './task-runner.ts';

/**
 * The queue boundary: where and when a ready task actually executes. The engine
 * keeps DAG progression and the state of record; an executor only runs what it is
 * handed. `LocalExecutor` runs tasks in this process; a distributed executor hands
 * them to workers on other machines.
 */
export interface TaskExecutor {
  /** How many more tasks it accepts right now; the engine dispatches no more than this. */
  freeSlots(): number;
  /**
   * True when tasks run in other processes and go on when this one stops (BullMQ
   * workers). The engine then leaves a task `running` on shutdown or after a crash,
   * and on the next start calls `execute` again for the same attempt, which must
   * re-attach to the running (or already finished) task instead of starting it over.
   */
  readonly outlivesEngine?: boolean;
  /** Runs one attempt. Rejects with the failure; honours `ctx.signal`. */
  execute(ctx: TaskContext): Promise<TaskOutput>;
  close(): Promise<void>;
}
