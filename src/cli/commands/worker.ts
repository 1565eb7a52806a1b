import { Command, InvalidArgumentError } from 'commander';
import { CheckoutWorkspaces } from '../../core/queue/worker-workspace.ts';
import { TaskWorker } from '../../core/queue/task-worker.ts';
import { DEFAULT_QUEUE } from '../../core/queue/task-job.ts';
import { REDIS_URL_ENV, probeRedis, redactRedisUrl, redisUrlFrom } from '../../core/queue/redis-url.ts';
import { NoopRunner } from '../../core/runners/noop-runner.ts';
import { ShellRunner } from '../../core/runners/shell-runner.ts';
import type { TaskRunner } from '../../core/runners/task-runner.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { consoleLogger } from '../../core/util/logger.ts';

interface WorkerFlags {
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
 * `extraRunners` are the runners beyond shell and noop (the agent runner).
 */
export function workerCommand(extraRunners: (flags: GlobalOptions) => TaskRunner[] = () => []): Command {
  return new Command('worker')
    .description('run tasks from a shared Redis queue (BullMQ mode); any number of workers on any machines')
    .option('--redis <url>', `Redis URL (default: $${REDIS_URL_ENV})`)
    .option('-c, --concurrency <n>', 'tasks at once', positiveInt, 4)
    .option('--queue <name>', 'BullMQ queue name', DEFAULT_QUEUE)
    .option('--workdir <dir>', 'where clones and worktrees of remote runs go (default ~/.orchestr8/worker)')
    .option('--checkout <mode>', 'auto: work in the run folder if it exists here; always: always in an own checkout', checkoutMode, 'auto')
    .option('--lock-duration <ms>', 'a dead worker\'s task is re-run elsewhere after about this long', positiveInt, 30_000)
    .option('-v, --verbose', 'log each task')
    .action(async (_flags: WorkerFlags, cmd: Command) => {
      // Under `orchestr8`, --redis and -v may also be given before `worker`.
      const flags = cmd.optsWithGlobals<WorkerFlags & GlobalOptions>();
      const logger = consoleLogger('orchestr8 worker', flags.verbose ?? false);
      const redisUrl = redisUrlFrom(flags.redis);
      if (!redisUrl) throw new Error(`no Redis URL: pass --redis redis://host:port or set ${REDIS_URL_ENV}`);
      await probeRedis(redisUrl);
      const worker = new TaskWorker({
        redisUrl,
        queue: flags.queue,
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        runners: [new ShellRunner(), new NoopRunner(), ...extraRunners(flags)],
        workspace: new CheckoutWorkspaces({ checkout: flags.checkout, ...(flags.workdir ? { workdir: flags.workdir } : {}) }),
        logger,
      });
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals === 1) {
          process.stderr.write(`orchestr8 worker: ${signal}: draining (finishing running tasks; again to stop now)\n`);
          void worker.stop(false).then(() => process.exit(0));
        } else {
          // Running jobs keep their lock until it expires; then other workers take them over.
          process.exit(1);
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      await worker.start();
      // Tests and supervisors wait for this line.
      process.stdout.write(`orchestr8 worker ${worker.id} ready on ${redactRedisUrl(redisUrl)} queue ${flags.queue}, concurrency ${flags.concurrency}\n`);
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
