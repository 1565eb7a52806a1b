import type { Budget } from '../core/model/input-request.ts';
import fs from 'node:fs';
import type { EngineApi } from '../core/engine/engine-api.ts';
import { Engine } from '../core/engine/engine.ts';
import { ReadOnlyEngine } from '../core/engine/read-only-engine.ts';
import type { RunHooks } from '../core/engine/run-hooks.ts';
import type { BullmqMode } from '../core/queue/bullmq-mode.ts';
import { resultsOptionsFromEnv, type ResultsOptions } from '../core/results/results-setup.ts';
import { listSnapshots } from '../core/store/snapshot-files.ts';
import { isLockLive, readLock, StateOwnedError, type LockInfo } from '../core/store/state-lock.ts';
import type { Disposable } from '../core/util/disposable.ts';
import { errorMessage, type Logger } from '../core/util/logger.ts';
import { ownerServices } from '../servers/owner-services.ts';
import { deferredHooks } from './deferred-hooks.ts';
import { extensionRunners } from './extension-runners.ts';
import type { SandboxSettings } from '../core/sandbox/sandbox-settings.ts';

/** What the results hooks get from the window: VS Code's GitHub session and the webhook settings. */
export interface ExtensionResultsSettings {
  /** From `vscode.authentication.getSession('github', ['repo'])`, asked silently; none means branches only. */
  githubToken?: string;
  /** `orchestr8.webhooks.urls`. */
  webhookUrls: string[];
  /** From SecretStorage; never in settings, logs or the store. */
  webhookSecret?: string;
  /** `orchestr8.git.push`: push run branches even when no pull request will be opened. */
  push?: boolean;
}

export interface OpenEngineOptions {
  stateDir: string;
  cwd: string;
  concurrency: number;
  defaultModel: string;
  /** Read when an agent task starts, so a key set later applies without a restart. */
  apiKey: () => Promise<string | undefined>;
  /** `orchestr8.anthropicBaseUrl` (a proxy, or a local server speaking the Messages API); none: the SDK's default. */
  anthropicBaseUrl?: string | (() => string | undefined);
  /** `orchestr8.agentRuntime` and `orchestr8.claudeCodePath`, read as each agent task starts. */
  agentRuntime?: () => string | undefined;
  claudeCodePath?: () => string | undefined;
  /** Hears each Anthropic SDK warning (a deprecated model) once per model, besides the logger. */
  onAgentWarning?: (warning: string) => void;
  /** `orchestr8.redisUrl`: BullMQ mode, like the CLI's `--redis`. */
  redisUrl?: string;
  /** `orchestr8.sandbox.*`: the OS sandbox for shell commands. */
  sandbox?: SandboxSettings;
  /** `orchestr8.permissions.*` and `orchestr8.budget.*`, read as each agent task starts. */
  permissions?: () => { allow: string[]; deny: string[] };
  budget?: () => Budget | undefined;
  /** `orchestr8.permissionTimeout`: how long a request waits before it is denied (0: forever). */
  inputTimeoutMs?: number;
  /** Read each time this window is about to become the owner (results hooks are part of the engine). */
  results?: () => Promise<ExtensionResultsSettings>;
  /** Serve the local HTTP API while owner (default true). */
  localApi?: boolean;
  logger: Logger;
  /** How long to wait for a previous owner that is shutting down (a window being reloaded). */
  ownerWaitMs?: number;
}

/** An engine this window owns, or a read-only view of a store another process owns. */
export interface OpenedEngine {
  engine: EngineApi;
  readOnly: boolean;
  /** Who owns the store, when read-only. */
  owner?: LockInfo;
  /**
   * Owner: resolves once the results hooks and the local HTTP API have started beside the open engine
   * (they wait for the results settings), with the API's address (its token is in `api.json` beside the store).
   */
  services?: Promise<{ apiUrl?: string }>;
  /** Read-only: the view could not follow the owner's journal and was loaded afresh (once, not on a timer). */
  onDidReload?: (listener: () => void) => Disposable;
  /** Read-only: the owner's lock changed (it exited or another took over): time to try taking over. */
  onOwnerChanged?: (listener: () => void) => Disposable;
  close(): Promise<void>;
}

/**
 * Journal bytes a window's engine writes before it folds them into a snapshot (in the snapshot
 * worker, off the extension host's thread). Every open, and a reload is one, replays on the extension
 * host's thread the journal written since the last snapshot, ~0.25 ms of CPU per KiB (1.9 MB, ~460 ms,
 * for 300 finished runs), while loading the same state from a snapshot takes ~100 ms. The store's
 * default, 4 MiB, let a window leave up to ~1 s of replay to the next reload.
 */
export const WINDOW_SNAPSHOT_THRESHOLD = 512 * 1024;
/** The store's own threshold (`StoreOptions.snapshotThreshold`'s default). */
const STORE_SNAPSHOT_THRESHOLD = 4 * 1024 * 1024;

/**
 * The window's threshold for this store: `WINDOW_SNAPSHOT_THRESHOLD`, or a quarter of the newest
 * snapshot when that is more (up to the store's own), since a fold rewrites the whole snapshot: a
 * long history (150 MB at 100k tasks) must not be rewritten for every 512 KiB of news.
 */
export function windowSnapshotThreshold(stateDir: string): number {
  const newest = listSnapshots(stateDir)[0];
  const bytes = newest ? (fs.statSync(newest.path, { throwIfNoEntry: false })?.size ?? 0) : 0;
  return Math.min(STORE_SNAPSHOT_THRESHOLD, Math.max(WINDOW_SNAPSHOT_THRESHOLD, Math.round(bytes / 4)));
}

/** Lock label of a VS Code window's engine; names the window's extension host in other processes' errors. */
const LOCK_COMMAND = 'vscode';

/**
 * Opens the workspace's engine as owner. If another live process owns the store, first waits a little
 * (on a window reload the old extension host is still closing its engine when the new one starts),
 * then settles for a read-only view.
 */
export async function openWorkspaceEngine(options: OpenEngineOptions): Promise<OpenedEngine> {
  const deadline = Date.now() + (options.ownerWaitMs ?? 6000);
  for (;;) {
    try {
      return await openOwner(options);
    } catch (error) {
      if (!(error instanceof StateOwnedError)) throw error;
      // Only a VS Code window's engine is worth waiting for; a CLI run may hold the store for hours.
      if (error.owner.command !== LOCK_COMMAND || Date.now() >= deadline) {
        options.logger.warn(`${error.message}; opening read-only`);
        return openReadOnly(options, error.owner);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Tries once to take ownership (used while read-only, to take over when the other owner goes away). */
export async function tryOpenOwner(options: OpenEngineOptions): Promise<OpenedEngine | undefined> {
  // Checked every few seconds: while the owner lives, don't set up Redis clients and hooks only to be refused.
  const lock = readLock(options.stateDir);
  if (lock && lock.pid !== process.pid && isLockLive(lock)) return undefined;
  try {
    return await openOwner(options);
  } catch (error) {
    if (error instanceof StateOwnedError) return undefined;
    throw error;
  }
}

/** A view of a store another process owns, kept up to date by following its journal (its events fire as the owner's do). */
export async function openReadOnly(options: OpenEngineOptions, owner?: LockInfo): Promise<OpenedEngine> {
  const reader = await ReadOnlyEngine.open(options.stateDir, { logger: options.logger, follow: true });
  return {
    engine: reader,
    readOnly: true,
    ...(owner ? { owner } : {}),
    onDidReload: reader.onDidReload,
    onOwnerChanged: reader.onOwnerChanged,
    close: () => reader.close(),
  };
}

/**
 * Results options from the window's settings; the token and secret only travel in memory. GitHub
 * is also configured by the environment VS Code was started in, as for the CLI (ORCHESTR8_GITHUB_TOKEN or GITHUB_TOKEN when
 * VS Code has no GitHub session, GITHUB_API_URL, ORCHESTR8_GITHUB_REPO, ORCHESTR8_GIT_REMOTE): the
 * user's own, never the workspace's, since the token goes to that address.
 */
export function extensionResultsOptions(
  stateDir: string,
  settings: ExtensionResultsSettings,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): ResultsOptions {
  const fromEnv = resultsOptionsFromEnv(stateDir, env);
  const token = settings.githubToken ?? fromEnv.github?.token;
  const github = { ...fromEnv.github, ...(token ? { token } : {}) };
  if (settings.webhookUrls.length && !settings.webhookSecret) {
    logger.warn('orchestr8.webhooks.urls is set but there is no signing secret: deliveries are kept as dead letters, never sent unsigned. Run "Orchestr8: Set Webhook Signing Secret".');
  }
  return {
    stateDir,
    ...(Object.keys(github).length ? { github } : {}),
    ...(fromEnv.remote ? { remote: fromEnv.remote } : {}),
    ...(settings.push || fromEnv.push ? { push: true } : {}),
    noTokenReason: 'no GitHub session in VS Code',
    webhooks: { endpoints: settings.webhookUrls, ...(settings.webhookSecret ? { secret: settings.webhookSecret } : {}) },
    logger,
  };
}

/**
 * The owner's engine with everything around it: agent runner, results hooks (worktree, branch,
 * pull request, webhooks), BullMQ when configured, and the local HTTP API. Closing goes in
 * reverse: the API first (no new commands), then webhooks (deliveries in flight recorded), then
 * the engine.
 *
 * The store opens without waiting for the results settings (VS Code's GitHub session can take
 * seconds, and a reload showed no runs until it came): the results hooks stand in deferred until
 * they arrive, then the services start beside the open engine.
 */
async function openOwner(options: OpenEngineOptions): Promise<OpenedEngine> {
  const { logger } = options;
  // Asked once this process holds the store: a window waiting for a reloading one retries every 250 ms.
  let opened!: () => void;
  const owning = new Promise<void>((resolve) => (opened = resolve));
  const services = owning.then(() => options.results?.() ?? { webhookUrls: [] }).then((settings) =>
    ownerServices({
      stateDir: options.stateDir,
      cwd: options.cwd,
      api: options.localApi ?? true,
      results: extensionResultsOptions(options.stateDir, settings, logger),
      logger,
    }),
  );
  services.catch(() => {}); // reported once the engine is open (below), or the open failed anyway
  let scaleOut: BullmqMode | undefined;
  if (options.redisUrl) {
    try {
      // Evaluated only in BullMQ mode: BullMQ and ioredis took a fifth of the runtime's load, paid at every window (re)load.
      const { openBullmqMode } = await import('../core/queue/bullmq-mode.ts');
      scaleOut = await openBullmqMode({ redisUrl: options.redisUrl, logger, maxInFlight: options.concurrency });
    } catch (error) {
      throw new Error(`BullMQ mode (orchestr8.redisUrl): ${errorMessage(error)}`);
    }
  }
  const hooks: RunHooks[] = [deferredHooks(services.then((s) => s.hooks)), ...(scaleOut ? [scaleOut.hook] : [])];
  let engine: Engine;
  try {
    engine = await Engine.open({
      stateDir: options.stateDir,
      cwd: options.cwd,
      concurrency: options.concurrency,
      logger,
      command: LOCK_COMMAND,
      snapshotThreshold: windowSnapshotThreshold(options.stateDir),
      ...(options.inputTimeoutMs ? { inputTimeoutMs: options.inputTimeoutMs } : {}),
      hooks,
      ...(scaleOut ? { executor: scaleOut.executor } : {}),
      runners: extensionRunners({
        apiKey: options.apiKey,
        defaultModel: options.defaultModel,
        ...(options.anthropicBaseUrl ? { baseUrl: options.anthropicBaseUrl } : {}),
        ...(options.onAgentWarning ? { onWarning: options.onAgentWarning } : {}),
        ...(options.agentRuntime ? { agentRuntime: options.agentRuntime } : {}),
        ...(options.claudeCodePath ? { claudeCodePath: options.claudeCodePath } : {}),
        ...(options.sandbox ? { sandbox: options.sandbox } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
        ...(options.budget ? { budget: options.budget } : {}),
        logger,
      }),
    });
  } catch (error) {
    await scaleOut?.executor.close();
    throw error;
  }
  if (scaleOut) logger.info('BullMQ mode: tasks go to workers through Redis (orchestr8.redisUrl)');
  opened();
  let closing = false;
  const running = services.then(
    (s) => (closing ? undefined : s.start(engine)),
    (error: unknown) => void logger.error('the results hooks and the local API could not start (runs stay unfinished until the next start)', error),
  );
  return {
    engine,
    readOnly: false,
    services: running.then((r) => (r?.api ? { apiUrl: r.api.url } : {})),
    close: async () => {
      closing = true;
      await (await running)?.close();
      await engine.close();
    },
  };
}
