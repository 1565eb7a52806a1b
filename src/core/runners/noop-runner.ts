import type { TaskContext, TaskOutput, TaskRunner } from './task-runner.ts';

/** Completes at once: measures the engine itself in benchmarks and drives scheduler tests. */
export class NoopRunner implements TaskRunner {
  readonly kind = 'noop';

  execute(ctx: TaskContext): Promise<TaskOutput> {
    return Promise.resolve({ output: ctx.action.kind === 'noop' ? (ctx.action.output ?? '') : '' });
  }
}
