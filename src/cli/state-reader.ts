import fs from 'node:fs';
import type { EngineApi } from '../core/engine/engine-api.ts';
import { StateView } from '../core/engine/state-view.ts';
import { isLockLive, readLock } from '../core/store/state-lock.ts';
import { resumeInBackground } from './background-owner.ts';
import type { CliContext } from './cli-context.ts';
import { CliError, ExitCode } from './cli-error.ts';

/** What a one-shot read answers: the read half of the engine API. */
export type ReadApi = Pick<EngineApi, 'status' | 'task' | 'result' | 'list' | 'usage' | 'gates' | 'tokenUsage' | 'log' | 'undeliveredNotifications'>;

/**
 * Runs `fn` against the state as of now, read in this process's own thread (no owner needed, and
 * no index worker to start: most of a short command's time). Apart from engine-access.ts so that
 * `status`, `result` and `log` load the reader, not the engine.
 */
export async function withReader<T>(ctx: CliContext, fn: (api: ReadApi) => Promise<T>): Promise<T> {
  if (!fs.existsSync(ctx.stateDir)) throw new CliError(`no runs yet (no state in ${ctx.stateDir})`, ExitCode.notFound);
  await resumeAfterDeadOwner(ctx);
  const reader = await StateView.open(ctx.stateDir, ctx.logger);
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

/**
 * The owner died (its lock names a dead process): its unfinished runs would wait for whoever
 * writes next. Any command that looks resumes them at once in a background owner, and says so.
 */
async function resumeAfterDeadOwner(ctx: CliContext): Promise<void> {
  const lock = readLock(ctx.stateDir);
  if (!lock || isLockLive(lock)) return;
  try {
    const resumed = await resumeInBackground(ctx);
    if (resumed > 0)
      process.stderr.write(`orchestr8: resumed ${resumed} unfinished run(s) in a background owner after the owner (pid ${lock.pid}, ${lock.command}) died\n`);
  } catch (error) {
    // Another command took over first (it runs them), or the spawn failed: the runs stay durable for the next owner.
    ctx.logger.warn(`could not resume the runs of the dead owner (pid ${lock.pid}): ${(error as Error).message}`);
  }
}
