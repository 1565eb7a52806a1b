import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_QUEUE } from '../../core/queue/task-job.ts';
import { REDIS_URL_ENV } from '../../core/queue/redis-url.ts';
import type { GlobalOptions } from '../cli-context.ts';

export interface WorkerFlags {
  redis?: string;
  concurrency: number;
  queue: string;
  workdir?: string;
  checkout: 'auto' | 'always';
  lockDuration: number;
  verbose?: boolean;
}

/**
 * `orchestr8 worker --redis URL [--concurrency N]`: runs tasks from the BullMQ
 * queue until SIGTERM/SIGINT, then drains (finishes running tasks, takes no new
 * ones); a second signal stops at once and leaves running tasks to other workers.
 * `start` runs the worker (see worker-run.ts), loaded only when the command is used.
 */
export function workerCommand(start: (flags: WorkerFlags & GlobalOptions) => Promise<void>): Command {
  return new Command('worker')
    .description('run tasks from a shared Redis queue (BullMQ mode); any number of workers on any machines')
    .option('--redis <url>', `Redis URL (default: $${REDIS_URL_ENV})`)
    .option('-c, --concurrency <n>', 'tasks at once', positiveInt, 4)
    .option('--queue <name>', 'BullMQ queue name', DEFAULT_QUEUE)
    .option('--workdir <dir>', 'where clones and worktrees of remote runs go (default ~/.orchestr8/worker)')
    .option('--checkout <mode>', 'auto: work in the run folder if it exists here; always: always in an own checkout', checkoutMode, 'auto')
    .option('--lock-duration <ms>', "a dead worker's task is re-run elsewhere after about this long", positiveInt, 30_000)
    .option('-v, --verbose', 'log each task')
    .action(async (_flags: WorkerFlags, cmd: Command) => {
      // Under `orchestr8`, --redis and -v may also be given before `worker`.
      await start(cmd.optsWithGlobals<WorkerFlags & GlobalOptions>());
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

function checkoutMode(value: string): 'auto' | 'always' {
  if (value !== 'auto' && value !== 'always') throw new InvalidArgumentError('expected auto or always');
  return value;
}
