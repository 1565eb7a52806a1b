import type { EngineApi } from '../core/engine/engine-api.ts';
import { Engine } from '../core/engine/engine.ts';
import { ReadOnlyEngine } from '../core/engine/read-only-engine.ts';
import { StateOwnedError, type LockInfo } from '../core/store/state-lock.ts';
import type { Logger } from '../core/util/logger.ts';
import { extensionRunners } from './extension-runners.ts';

export interface OpenEngineOptions {
  stateDir: string;
  cwd: string;
  concurrency: number;
  defaultModel: string;
  /** Read when an agent task starts, so a key set later applies without a restart. */
  apiKey: () => Promise<string | undefined>;
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
  close(): Promise<void>;
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
  try {
    return await openOwner(options);
  } catch (error) {
    if (error instanceof StateOwnedError) return undefined;
    throw error;
  }
}

export async function openReadOnly(options: OpenEngineOptions, owner?: LockInfo): Promise<OpenedEngine> {
  const reader = await ReadOnlyEngine.open(options.stateDir, options.logger);
  return { engine: reader, readOnly: true, ...(owner ? { owner } : {}), close: () => reader.close() };
}

async function openOwner(options: OpenEngineOptions): Promise<OpenedEngine> {
  const engine = await Engine.open({
    stateDir: options.stateDir,
    cwd: options.cwd,
    concurrency: options.concurrency,
    logger: options.logger,
    command: LOCK_COMMAND,
    runners: extensionRunners({ apiKey: options.apiKey, defaultModel: options.defaultModel, logger: options.logger }),
  });
  return { engine, readOnly: false, close: () => engine.close() };
}
