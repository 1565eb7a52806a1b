import { parseDuration } from '../core/workflow/duration.ts';
import os from 'node:os';
import type { EngineApi } from '../core/engine/engine-api.ts';
import type { Engine } from '../core/engine/engine.ts';
import type { EngineOptions } from '../core/engine/engine-options.ts';
import { StateOwnedError } from '../core/store/state-lock.ts';
import { connectRemote, openOwnerStack, ScaleOutError, type OwnerStack } from '../servers/engine-access.ts';
import type { ApiServer } from '../servers/http/api-server.ts';
import type { CliContext } from './cli-context.ts';
import { CliError, ExitCode } from './cli-error.ts';
import { cliRunners } from './cli-runners.ts';
import { resumeInBackground } from './background-owner.ts';
import { HoldingExecutor } from './holding-executor.ts';
import { watchInbox } from './launch-inbox.ts';

/** Tasks in flight at once for a CLI owner without `--concurrency`: agent tasks mostly wait on the network. */
export function defaultConcurrency(): number {
  return Math.max(8, os.availableParallelism());
}

/** The state opened by this process as its owner (see `openOwnerStack`), for a CLI command. */
export interface OwnedState {
  readonly engine: Engine;
  /** The local API other processes command this owner through (owners that outlive one command). */
  readonly api: ApiServer | undefined;
  /** Stops the API and the results services, then closes the engine. */
  close(): Promise<void>;
}

/**
 * Opens the state as its owner for a command that runs tasks in this process. `serve`
 * starts the local API (for owners that live longer than one command); results hooks
 * (worktree per run, commits, push, pull request, webhooks from the environment) are always on.
 */
export async function openOwner(ctx: CliContext, options: Partial<EngineOptions> = {}, serve: { api: boolean } = { api: true }): Promise<OwnedState> {
  let stack: OwnerStack;
  try {
    stack = await openOwnerStack({
      stateDir: ctx.stateDir,
      cwd: ctx.projectRoot,
      logger: ctx.logger,
      command: `orchestr8 ${process.argv.slice(2, 3).join(' ')}`.trim(),
      runners: cliRunners(),
      concurrency: defaultConcurrency(),
      ...permissionTimeout(),
      ...options,
      api: serve.api,
      ...(ctx.redisUrl ? { redisUrl: ctx.redisUrl } : {}),
      ...(options.concurrency ? { maxInFlight: options.concurrency } : {}),
    });
  } catch (error) {
    if (error instanceof StateOwnedError) throw ownedError(error);
    if (error instanceof ScaleOutError) throw new CliError(error.message, ExitCode.failed);
    throw error;
  }
  const { api } = await stack.services;
  // Launches posted while no owner was there (see launch-inbox.ts) start now, with the ids already printed.
  const stopInbox = await watchInbox(ctx.stateDir, stack.engine, ctx.logger);
  return {
    engine: stack.engine,
    api,
    close: async () => {
      await stopInbox();
      await stack.close();
    },
  };
}

/** The state is owned by a process that cannot be reached (no local API): say which one. */
function ownedError(error: StateOwnedError): CliError {
  return new CliError(`${error.message}; it runs the tasks there and serves no local API (stop it, then try again)`, ExitCode.owned);
}

/** Runs `fn` over the local API of the live owner of `stateDir`, or resolves `undefined` when none answers. */
export async function withLiveOwner<T>(stateDir: string, fn: (api: EngineApi) => Promise<T>): Promise<{ value: T } | undefined> {
  const remote = await connectRemote(stateDir);
  if (!remote) return undefined;
  try {
    return { value: await fn(remote.engine) };
  } finally {
    await remote.close();
  }
}

/**
 * Runs a command that changes the state (reads go through `withReader`). It goes to the live
 * owner through its local API when there is one; otherwise this process becomes the owner for
 * the command (starting no task), and if runs are left unfinished (a signal or a retry made
 * tasks ready) a background owner is started to run them.
 */
export async function withEngine<T>(ctx: CliContext, fn: (api: EngineApi) => Promise<T>): Promise<T> {
  const remote = await withLiveOwner(ctx.stateDir, fn);
  if (remote) return remote.value;
  let owned: OwnedState;
  try {
    // In BullMQ mode tasks run on workers anyway (and running ones must be re-attached, not interrupted).
    owned = await openOwner(ctx, ctx.redisUrl ? {} : { executor: new HoldingExecutor() }, { api: false });
  } catch (error) {
    // The owner may have started (and published its API) since we looked.
    if (error instanceof CliError && error.code === ExitCode.owned) {
      const late = await withLiveOwner(ctx.stateDir, fn);
      if (late) return late.value;
    }
    throw error;
  }
  let unfinished = 0;
  try {
    const value = await fn(owned.engine);
    unfinished = owned.engine.activeRunCount;
    return value;
  } finally {
    await owned.close();
    if (unfinished > 0) {
      await resumeInBackground(ctx).catch((error: unknown) => {
        // Someone else became the owner (it runs them), or the spawn failed: the runs wait, durable, for the next owner.
        ctx.logger.warn(`${unfinished} unfinished run(s) wait for the next owner: ${(error as Error).message}`);
      });
    }
  }
}

/** `ORCHESTR8_PERMISSION_TIMEOUT` (`30m`, `1h`, seconds): how long a request waits for an answer before it is denied. */
function permissionTimeout(): { inputTimeoutMs?: number } {
  const text = process.env['ORCHESTR8_PERMISSION_TIMEOUT'];
  if (!text) return {};
  try {
    const ms = parseDuration(/^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
    return ms > 0 ? { inputTimeoutMs: ms } : {};
  } catch (error) {
    throw new CliError(`ORCHESTR8_PERMISSION_TIMEOUT: ${(error as Error).message}`, ExitCode.usage);
  }
}
