import * as vscode from 'vscode';
import type { EngineApi } from '../core/engine/engine-api.ts';
import type { EngineEvent } from '../core/model/events.ts';
import { Emitter } from '../core/util/emitter.ts';
import { errorMessage, type Logger } from '../core/util/logger.ts';
import { openWorkspaceEngine, type OpenedEngine } from './open-engine.ts';
import type { Settings } from './settings.ts';

/**
 * Why the engine is or isn't there. Documented states, like a worker's lifecycle:
 * - `untrusted`: the workspace isn't trusted, so nothing runs (starts on trust).
 * - `no-folder`: no workspace folder, so there is no per-workspace store.
 * - `starting`: opening the store and resuming unfinished runs.
 * - `ready`: this window owns the store and runs tasks.
 * - `read-only`: another window owns the store; this one shows history and runs nothing.
 * - `failed`: the store could not be opened; the output channel says why.
 * - `stopped`: deactivated.
 */
export type EngineHostState = 'untrusted' | 'no-folder' | 'starting' | 'ready' | 'read-only' | 'failed' | 'stopped';

/** A user-facing refusal (shown as a plain message, not as a crash). */
export class UserError extends Error {}

/**
 * Owns the engine for this window: opens it in `context.storageUri` once the workspace is trusted,
 * re-emits its events (so views can subscribe before it exists) and closes it on deactivate, which
 * flushes the journal.
 */
export class EngineHost implements vscode.Disposable {
  private _state: EngineHostState = 'starting';
  private opened: OpenedEngine | undefined;
  private opening: Promise<void> | undefined;
  private subscription: { dispose(): void } | undefined;
  private readonly events = new Emitter<EngineEvent>((e) => this.logger.error('event listener failed', e));
  private readonly stateChanged = new vscode.EventEmitter<EngineHostState>();
  /** Engine events, from whichever engine is open. */
  readonly onEvent = this.events.event;
  readonly onDidChangeState = this.stateChanged.event;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logger: Logger,
    private readonly settings: () => Settings,
    private readonly apiKey: () => Promise<string | undefined>,
  ) {}

  get state(): EngineHostState {
    return this._state;
  }

  get readOnly(): boolean {
    return this._state === 'read-only';
  }

  /** The engine if it is open (ready or read-only). */
  get engine(): EngineApi | undefined {
    return this.opened?.engine;
  }

  /** Opens the engine if the workspace allows it; safe to call again (after trust is granted). */
  start(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.setState('untrusted');
      return Promise.resolve();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const storage = this.context.storageUri;
    if (!folder || !storage) {
      this.setState('no-folder');
      return Promise.resolve();
    }
    if (folder.uri.scheme !== 'file' || storage.scheme !== 'file') {
      this.logger.error(`Orchestr8 needs a folder on disk; this workspace is ${folder.uri.toString()}`);
      this.setState('failed');
      return Promise.resolve();
    }
    this.opening ??= this.open(storage.fsPath, folder.uri.fsPath);
    return this.opening;
  }

  private async open(stateDir: string, cwd: string): Promise<void> {
    this.setState('starting');
    const started = performance.now();
    try {
      const settings = this.settings();
      const opened = await openWorkspaceEngine({
        stateDir,
        cwd,
        concurrency: settings.concurrency,
        defaultModel: settings.defaultModel,
        apiKey: this.apiKey,
        logger: this.logger,
      });
      if (this._state === 'stopped') {
        await opened.close();
        return;
      }
      this.opened = opened;
      this.subscription = opened.engine.onEvent((e) => this.events.fire(e));
      this.logger.info(`engine ${opened.readOnly ? 'opened read-only' : 'ready'} in ${(performance.now() - started).toFixed(1)} ms (state in ${stateDir})`);
      this.setState(opened.readOnly ? 'read-only' : 'ready');
    } catch (error) {
      this.logger.error('could not open the Orchestr8 engine', error);
      this.setState('failed');
      this.opening = undefined;
    }
  }

  /**
   * The engine for a command that changes something. Throws a `UserError` that says why when there is
   * none, or when this window only reads another window's store.
   */
  async writable(): Promise<EngineApi> {
    const engine = await this.readable();
    if (this.readOnly) throw new UserError('Another VS Code window runs this workspace’s tasks; this window only shows them. Use that window, or close it and reload this one.');
    return engine;
  }

  /** The engine for a command that only reads. */
  async readable(): Promise<EngineApi> {
    await this.start();
    if (this.opened) return this.opened.engine;
    switch (this._state) {
      case 'untrusted':
        throw new UserError('Orchestr8 runs shell commands and AI agents, so it stays off until you trust this workspace.');
      case 'no-folder':
        throw new UserError('Open a folder first: Orchestr8 keeps its runs per workspace folder.');
      default:
        throw new UserError('Orchestr8 could not start its engine; see the Orchestr8 output for why.');
    }
  }

  /** Resolves once the engine is open (or it is clear it won't open). */
  whenSettled(): Promise<void> {
    if (this._state !== 'starting') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private setState(state: EngineHostState): void {
    if (this._state === state) return;
    this._state = state;
    void vscode.commands.executeCommand('setContext', 'orchestr8.enabled', state === 'ready' || state === 'read-only');
    void vscode.commands.executeCommand('setContext', 'orchestr8.readOnly', state === 'read-only');
    void vscode.commands.executeCommand('setContext', 'orchestr8.startFailed', state === 'failed');
    this.stateChanged.fire(state);
    if (state !== 'starting') for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /** Stops the engine: running tasks are interrupted and resume on next open; the journal is flushed. */
  async stop(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    this.setState('stopped');
    this.subscription?.dispose();
    if (opened) {
      const started = performance.now();
      try {
        await opened.close();
        this.logger.info(`engine closed in ${(performance.now() - started).toFixed(1)} ms`);
      } catch (error) {
        this.logger.error('engine did not close cleanly', error);
      }
    }
  }

  dispose(): void {
    void this.stop();
    this.events.dispose();
    this.stateChanged.dispose();
  }

  static describeError(error: unknown): string {
    return error instanceof UserError ? error.message : `Orchestr8: ${errorMessage(error)}`;
  }
}
