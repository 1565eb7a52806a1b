import { Engine } from '../core/engine/engine.ts';
import type { EngineOptions } from '../core/engine/engine-options.ts';
import { ReadOnlyEngine } from '../core/engine/read-only-engine.ts';
import type { RunHooks } from '../core/engine/run-hooks.ts';
import type { BullmqMode } from '../core/queue/bullmq-mode.ts';
import { resultsOptionsFromEnv, setupResults, type Results, type ResultsOptions } from '../core/results/results-setup.ts';
import type { LockInfo } from '../core/store/state-lock.ts';
import { errorMessage, silentLogger, type Logger } from '../core/util/logger.ts';
import { deferredHooks } from './deferred-hooks.ts';
import { ApiClient } from './http/api-client.ts';
import { ApiServer } from './http/api-server.ts';

/**
 * How a front end (the CLI, a VS Code window, `orchestr8 mcp`) reaches the engine of a state
 * folder, one of three ways:
 * - `owner`: this process owns the folder and runs the tasks (`openOwnerStack`);
 * - `reader`: another process (or none) owns it; a view follows its journal, and commands need the owner;
 * - `remote`: the live owner's engine API, over its local HTTP API.
 */
export type EngineAccess = OwnerStack | ReaderAccess | RemoteAccess;

/** The engine this process owns, with what runs beside it: results hooks, webhooks, and the local API. */
export interface OwnerStack {
  readonly kind: 'owner';
  readonly engine: Engine;
  /**
   * Resolves once the webhooks and the local API run beside the engine, with the API if it started:
   * at once, unless the results settings are asked for later. Never rejects (a failure is logged).
   */
  readonly services: Promise<{ api?: ApiServer }>;
  /** Stops the API (no new commands), then the webhooks (deliveries in flight recorded), then closes the engine. */
  close(): Promise<void>;
}

/** A view of a state folder this process does not own, kept up to date by following the owner's journal. */
export interface ReaderAccess {
  readonly kind: 'reader';
  readonly engine: ReadOnlyEngine;
  /** Who owned the folder when the view opened, if anyone. */
  readonly owner?: LockInfo;
  close(): Promise<void>;
}

/** The live owner's engine, commanded through its local HTTP API. */
export interface RemoteAccess {
  readonly kind: 'remote';
  readonly engine: ApiClient;
  close(): Promise<void>;
}

export interface OwnerStackOptions extends EngineOptions {
  /**
   * Results settings (worktree per run, commits, push, pull request, webhooks); default: from the
   * environment (`resultsOptionsFromEnv`). A function is asked once the folder is this process's
   * (a VS Code window's come from its GitHub session, which can take seconds): until it answers,
   * the results hooks stand in deferred, so the engine opens without waiting. `false`: none (the
   * engine alone, and no webhooks).
   */
  results?: ResultsOptions | (() => Promise<ResultsOptions>) | false;
  /** Serve the local API (127.0.0.1, random port, bearer token, `api.json` mode 0600) for other processes. */
  api: boolean;
  /** BullMQ mode (`--redis`, `orchestr8.redisUrl`): tasks go to workers through Redis, unless an `executor` is given. */
  redisUrl?: string;
  /** Tasks handed to workers at once in BullMQ mode (default: the executor's own). */
  maxInFlight?: number;
}

/** BullMQ mode could not start (Redis cannot be reached): nothing was opened. */
export class ScaleOutError extends Error {
  override readonly name = 'ScaleOutError';
}

/**
 * Opens the state folder as its owner (a StateOwnedError names a live one) with everything an owner
 * runs: results hooks, BullMQ when asked, webhooks and the local API. The one way every front end
 * becomes the owner; close what it returns, and all of it stops, in order.
 */
export async function openOwnerStack(options: OwnerStackOptions): Promise<OwnerStack> {
  const { results: given, api, redisUrl, maxInFlight, ...engineOptions } = options;
  const logger = options.logger ?? silentLogger;
  let owned!: () => void;
  const owning = new Promise<void>((resolve) => (owned = resolve));
  // Results now (given, or from the environment), later (asked only once this process holds the
  // folder: a window waiting for a reloading one retries every 250 ms), or none.
  const later = typeof given === 'function' ? given : undefined;
  const now = typeof given === 'function' || given === false ? undefined : setupResults(given ?? resultsOptionsFromEnv(options.stateDir, process.env, logger));
  const results: Promise<Results | undefined> = later ? owning.then(later).then(setupResults) : Promise.resolve(now);
  results.catch(() => {}); // reported once the engine is open (below), or the open failed anyway
  const resultsHooks: RunHooks[] = later ? [deferredHooks(results.then((r) => (r ? [r.hooks] : [])))] : now ? [now.hooks] : [];
  const scaleOut = redisUrl && !engineOptions.executor ? await bullmqMode(redisUrl, logger, maxInFlight) : undefined;
  let engine: Engine;
  try {
    engine = await Engine.open({
      ...engineOptions,
      // The results hooks record the run's branch, which BullMQ's run-source hook reads.
      hooks: [...(engineOptions.hooks ?? []), ...resultsHooks, ...(scaleOut ? [scaleOut.hook] : [])],
      ...(scaleOut ? { executor: scaleOut.executor } : {}),
    });
  } catch (error) {
    await scaleOut?.executor.close();
    throw error;
  }
  owned();
  let closing = false;
  const running = results.then(
    (r) => (closing ? undefined : startServices(r, engine, api, options.stateDir, options.cwd, logger)),
    (error: unknown) => void logger.error('the results hooks and the local API could not start (runs stay unfinished until the next start)', error),
  );
  if (!later) await running;
  return {
    kind: 'owner',
    engine,
    services: running.then((s) => (s?.api ? { api: s.api } : {})),
    close: async () => {
      closing = true;
      await (await running)?.close();
      await engine.close();
    },
  };
}

async function bullmqMode(redisUrl: string, logger: Logger, maxInFlight: number | undefined): Promise<BullmqMode> {
  try {
    // Evaluated only in BullMQ mode: BullMQ and ioredis took a fifth of the runtime's load, paid at every window (re)load.
    const { openBullmqMode } = await import('../core/queue/bullmq-mode.ts');
    return await openBullmqMode({ redisUrl, logger, ...(maxInFlight ? { maxInFlight } : {}) });
  } catch (error) {
    throw new ScaleOutError(errorMessage(error));
  }
}

/** Webhooks, then the local API, beside the open engine; closing goes in reverse. */
async function startServices(
  results: Results | undefined,
  engine: Engine,
  serve: boolean,
  stateDir: string,
  cwd: string,
  logger: Logger,
): Promise<{ api: ApiServer | undefined; close(): Promise<void> }> {
  const webhooks = results?.startWebhooks(engine);
  let api: ApiServer | undefined;
  if (serve) {
    try {
      api = await ApiServer.start({ engine, stateDir, cwd, logger });
    } catch (error) {
      // The owner still runs its tasks; only other processes cannot reach it (they say so).
      logger.warn(`the local API could not start: ${errorMessage(error)}`);
    }
  }
  return {
    api,
    close: async () => {
      await api?.close();
      await webhooks?.close();
    },
  };
}

/** A view of a folder another process owns (or none does), following its journal: the owner's events fire as its own do. */
export async function openReader(stateDir: string, logger: Logger, owner?: LockInfo): Promise<ReaderAccess> {
  const engine = await ReadOnlyEngine.open(stateDir, { logger, follow: true });
  return { kind: 'reader', engine, ...(owner ? { owner } : {}), close: () => engine.close() };
}

/** The live owner's engine API through the local API it publishes in `stateDir`, or undefined when none answers. */
export async function connectRemote(stateDir: string): Promise<RemoteAccess | undefined> {
  const engine = await ApiClient.connect(stateDir);
  return engine && { kind: 'remote', engine, close: async () => engine.dispose() };
}
