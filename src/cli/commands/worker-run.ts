import { CheckoutWorkspaces } from '../../core/queue/worker-workspace.ts';
import { TaskWorker } from '../../core/queue/task-worker.ts';
import { probeRedis } from '../../core/queue/redis-probe.ts';
import { REDIS_URL_ENV, redactRedisUrl, redisUrlFrom } from '../../core/queue/redis-url.ts';
import { NoopRunner } from '../../core/runners/noop-runner.ts';
import { ShellRunner } from '../../core/runners/shell-runner.ts';
import type { TaskRunner } from '../../core/runners/task-runner.ts';
import { consoleLogger } from '../../core/util/logger.ts';
import type { GlobalOptions } from '../cli-context.ts';
import type { WorkerFlags } from './worker.ts';

/** Runs an `orchestr8 worker` until signalled; `extraRunners` are the runners beyond shell and noop (the agent runner). */
export async function runWorker(flags: WorkerFlags & GlobalOptions, extraRunners: () => TaskRunner[] = () => []): Promise<void> {
  const logger = consoleLogger('orchestr8 worker', flags.verbose ?? false);
  const redisUrl = redisUrlFrom(flags.redis);
  if (!redisUrl) throw new Error(`no Redis URL: pass --redis redis://host:port or set ${REDIS_URL_ENV}`);
  await probeRedis(redisUrl);
  const worker = new TaskWorker({
    redisUrl,
    queue: flags.queue,
    concurrency: flags.concurrency,
    lockDurationMs: flags.lockDuration,
    runners: [new ShellRunner(), new NoopRunner(), ...extraRunners()],
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
}
