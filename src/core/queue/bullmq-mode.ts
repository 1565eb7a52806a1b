import type { RunHooks } from '../engine/run-hooks.ts';
import type { Logger } from '../util/logger.ts';
import { BullmqExecutor } from './bullmq-executor.ts';
import { probeRedis } from './redis-probe.ts';
import { runSourceHook } from './run-source-hook.ts';

export interface BullmqModeOptions {
  redisUrl: string;
  logger: Logger;
  /** Tasks handed to workers at once (the engine's concurrency). */
  maxInFlight?: number;
}

/** What BullMQ mode adds to `Engine.open`: its executor, and a hook to append to the engine's hooks. */
export interface BullmqMode {
  executor: BullmqExecutor;
  hook: RunHooks;
}

/**
 * BullMQ mode for any front end (CLI `--redis`, the extension's `orchestr8.redisUrl`): the
 * opening process stays the state of record and hands tasks to workers through Redis. Fails
 * fast with Redis's own message (password hidden) when it cannot be reached, before any queue
 * client starts reconnecting forever. Close the executor if `Engine.open` fails; the engine
 * closes it otherwise.
 */
export async function openBullmqMode(options: BullmqModeOptions): Promise<BullmqMode> {
  await probeRedis(options.redisUrl);
  const executor = new BullmqExecutor({
    redisUrl: options.redisUrl,
    logger: options.logger,
    ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
  });
  try {
    await executor.waitUntilReady();
  } catch (error) {
    await executor.close();
    throw error;
  }
  return { executor, hook: runSourceHook(options.logger) };
}
