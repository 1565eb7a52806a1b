import fs from 'node:fs';
import type { EngineApi } from '../core/engine/engine-api.ts';
import { Engine } from '../core/engine/engine.ts';
import type { EngineOptions } from '../core/engine/engine.ts';
import { ReadOnlyEngine } from '../core/engine/read-only-engine.ts';
import { StateOwnedError } from '../core/store/state-lock.ts';
import type { CliContext } from './cli-context.ts';
import { CliError, ExitCode } from './cli-error.ts';
import { cliRunners } from './cli-runners.ts';
import { openBullmqMode } from '../core/queue/bullmq-mode.ts';

/** Opens the state as its owner for a command that runs tasks in this process. */
export async function openOwner(ctx: CliContext, options: Partial<EngineOptions> = {}): Promise<Engine> {
  const scaleOut = ctx.redisUrl ? await bullmqMode(ctx, ctx.redisUrl, options) : {};
  try {
    return await Engine.open({
      stateDir: ctx.stateDir,
      cwd: ctx.projectRoot,
      logger: ctx.logger,
      command: `orchestr8 ${process.argv.slice(2, 3).join(' ')}`.trim(),
      runners: cliRunners(ctx),
      ...options,
      ...scaleOut,
    });
  } catch (error) {
    await scaleOut.executor?.close();
    if (error instanceof StateOwnedError) {
      throw new CliError(`${error.message}; it runs the tasks there (stop it, or use its local API)`, ExitCode.owned);
    }
    throw error;
  }
}

/**
 * BullMQ mode: this process stays the state of record and hands tasks to workers
 * through Redis. Fails fast, with the URL (password hidden), if Redis cannot be reached.
 */
async function bullmqMode(ctx: CliContext, redisUrl: string, options: Partial<EngineOptions>): Promise<Pick<EngineOptions, 'executor' | 'hooks'>> {
  try {
    const { executor, hook } = await openBullmqMode({ redisUrl, logger: ctx.logger, ...(options.concurrency ? { maxInFlight: options.concurrency } : {}) });
    return { executor, hooks: [...(options.hooks ?? []), hook] };
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.failed);
  }
}

/** Runs `fn` against the state: as owner when nobody owns it (so commands take effect), else read-only. */
export async function withEngine<T>(ctx: CliContext, fn: (api: EngineApi) => Promise<T>, mode: 'read' | 'write'): Promise<T> {
  if (mode === 'read') {
    if (!fs.existsSync(ctx.stateDir)) throw new CliError(`no runs yet (no state in ${ctx.stateDir})`, ExitCode.notFound);
    const reader = await ReadOnlyEngine.open(ctx.stateDir, ctx.logger);
    try {
      return await fn(reader);
    } finally {
      await reader.close();
    }
  }
  const engine = await openOwner(ctx);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}
