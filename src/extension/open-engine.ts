import type { Budget } from '../core/model/input-request.ts';
import fs from 'node:fs';
import { resultsOptionsFromEnv, type ResultsOptions } from '../core/results/results-setup.ts';
import { listSnapshots } from '../core/store/snapshot-files.ts';
import { liveOwner, StateOwnedError } from '../core/store/state-lock.ts';
import type { Logger } from '../core/util/logger.ts';
import { openOwnerStack, openReader, ScaleOutError, type OwnerStack, type ReaderAccess } from '../servers/engine-access.ts';
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

/** The engine this window owns, or a view of a store another process owns (see `EngineAccess`). */
export type WorkspaceEngine = OwnerStack | ReaderAccess;

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
export async function openWorkspaceEngine(options: OpenEngineOptions): Promise<WorkspaceEngine> {
  const deadline = Date.now() + (options.ownerWaitMs ?? 6000);
  for (;;) {
    try {
      return await openOwner(options);
    } catch (error) {
      if (!(error instanceof StateOwnedError)) throw error;
      // Only a VS Code window's engine is worth waiting for; a CLI run may hold the store for hours.
      if (error.owner.command !== LOCK_COMMAND || Date.now() >= deadline) {
        options.logger.warn(`${error.message}; opening read-only`);
        return openReader(options.stateDir, options.logger, error.owner);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Tries once to take ownership (used while read-only, to take over when the other owner goes away). */
export async function tryOpenOwner(options: OpenEngineOptions): Promise<OwnerStack | undefined> {
  // Checked every few seconds: while the owner lives, don't set up Redis clients and hooks only to be refused.
  if (liveOwner(options.stateDir)) return undefined;
  try {
    return await openOwner(options);
  } catch (error) {
    if (error instanceof StateOwnedError) return undefined;
    throw error;
  }
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
    logger.warn(
      'orchestr8.webhooks.urls is set but there is no signing secret: deliveries are kept as dead letters, never sent unsigned. ' +
        'Run "Orchestr8: Set Webhook Signing Secret".',
    );
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
 * The owner's engine with everything around it (see `openOwnerStack`): agent runner, results hooks
 * (worktree, branch, pull request, webhooks), BullMQ when configured, and the local HTTP API.
 *
 * The store opens without waiting for the results settings (VS Code's GitHub session can take
 * seconds, and a reload showed no runs until it came): the results hooks stand in deferred until
 * they arrive, then the services start beside the open engine.
 */
async function openOwner(options: OpenEngineOptions): Promise<OwnerStack> {
  const { logger } = options;
  let stack: OwnerStack;
  try {
    stack = await openOwnerStack({
      stateDir: options.stateDir,
      cwd: options.cwd,
      concurrency: options.concurrency,
      logger,
      command: LOCK_COMMAND,
      snapshotThreshold: windowSnapshotThreshold(options.stateDir),
      ...(options.inputTimeoutMs ? { inputTimeoutMs: options.inputTimeoutMs } : {}),
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
      results: async () => extensionResultsOptions(options.stateDir, (await options.results?.()) ?? { webhookUrls: [] }, logger),
      api: options.localApi ?? true,
      ...(options.redisUrl ? { redisUrl: options.redisUrl, maxInFlight: options.concurrency } : {}),
    });
  } catch (error) {
    if (error instanceof ScaleOutError) throw new Error(`BullMQ mode (orchestr8.redisUrl): ${error.message}`);
    throw error;
  }
  if (options.redisUrl) logger.info('BullMQ mode: tasks go to workers through Redis (orchestr8.redisUrl)');
  return stack;
}
