import path from 'node:path';
import * as vscode from 'vscode';
import type { EngineApi } from '../core/engine/engine-api.ts';
import type { EngineEvent } from '../core/model/events.ts';
import { Emitter } from '../core/util/emitter.ts';
import { errorMessage, type Logger } from '../core/util/logger.ts';
import type { ExtensionResultsSettings, OpenEngineOptions, WorkspaceEngine } from './open-engine.ts';
import { loadRuntime, runtimeFromCodeCache, saveRuntimeCodeCache } from './runtime-loader.ts';
import { WEBHOOK_SECRET } from './secret-keys.ts';
import type { Settings } from './settings.ts';
import { workspaceStateDir } from './store-location.ts';

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

/**
 * How often a read-only window checks whether the owner is still alive (a lock read and a signal-0
 * probe; no store is reloaded: the view follows the owner's journal). An owner that exits cleanly
 * removes its lock, which the view hears of at once; one that was killed leaves it, hence the check.
 */
const TAKEOVER_CHECK_MS = 3000;

/** How long after the engine opened the runtime's code cache is written (when it had none). */
const CODE_CACHE_SAVE_DELAY_MS = 2000;

/** Longest wait for VS Code's GitHub session before opening without it (branches, no pull requests). */
const GITHUB_SESSION_TIMEOUT_MS = 3000;

/** Sets a `when`-clause context key; a failure (e.g. while the host shuts down) only matters to nobody. */
export function setContext(key: string, value: unknown): void {
  Promise.resolve(vscode.commands.executeCommand('setContext', key, value)).catch(() => {});
}

/** A user-facing refusal (shown as a plain message, not as a crash). */
export class UserError extends Error {
  /** Buttons on the error toast: a title and the command it runs (e.g. Manage Workspace Trust). */
  constructor(
    message: string,
    readonly actions: ReadonlyArray<{ title: string; command: string }> = [],
  ) {
    super(message);
  }
}

/**
 * Owns the engine for this window: opens the workspace folder's store (`<folder>/.orchestr8/state`,
 * shared with every other window and process on the folder) once the workspace is trusted, re-emits
 * its events (so views can subscribe before it exists) and closes it on deactivate, which flushes the
 * journal.
 */
export class EngineHost implements vscode.Disposable {
  private _state: EngineHostState = 'starting';
  private opened: WorkspaceEngine | undefined;
  private opening: Promise<void> | undefined;
  private subscription: { dispose(): void } | undefined;
  private readonly events = new Emitter<EngineEvent>((e) => this.logger.error('event listener failed', e));
  private readonly stateChanged = new vscode.EventEmitter<EngineHostState>();
  private readonly reloaded = new vscode.EventEmitter<void>();
  private readonly agentWarnings = new vscode.EventEmitter<string>();
  /** A warning from the Anthropic SDK (a deprecated model), once per model. */
  readonly onAgentWarning = this.agentWarnings.event;
  /** Engine events, from whichever engine is open. */
  readonly onEvent = this.events.event;
  /** The engine was opened, replaced or closed: views reload everything. */
  readonly onDidChangeState = this.stateChanged.event;
  /** Read-only: the view could not follow the owner's journal and was loaded afresh (views reload; no events cover the gap). */
  readonly onDidReload = this.reloaded.event;
  private poll: ReturnType<typeof setInterval> | undefined;
  private readOnlySubscriptions: { dispose(): void }[] = [];
  private openOptions: OpenEngineOptions | undefined;

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
    if (!folder) {
      this.setState('no-folder');
      return Promise.resolve();
    }
    if (folder.uri.scheme !== 'file') {
      this.logger.error(`Orchestr8 needs a folder on disk; this workspace is ${folder.uri.toString()}`);
      this.setState('failed');
      return Promise.resolve();
    }
    // Where this window kept its runs before stores were keyed to the folder: adopted on first open.
    const previous = this.context.storageUri?.scheme === 'file' ? this.context.storageUri.fsPath : undefined;
    const stateDir = workspaceStateDir(folder.uri.fsPath);
    // Now, not once the store is open: a terminal restored with the window starts right after activation.
    this.shareStateWithTerminals(stateDir);
    this.opening ??= this.open(stateDir, folder.uri.fsPath, previous);
    return this.opening;
  }

  /**
   * Terminals opened in this window get the store it opened, so `orchestr8 status`, `launch` and
   * `orchestr8 mcp` there see (and command, through the local API) what the tree shows, even when the
   * terminal's folder is not the project's root, or the store is still the window's old one.
   */
  private shareStateWithTerminals(stateDir: string): void {
    const terminals = this.context.environmentVariableCollection;
    terminals.description = "Orchestr8: the CLI in this terminal uses this workspace's task store";
    terminals.replace('ORCHESTR8_STATE', stateDir);
  }

  private async open(folderStateDir: string, cwd: string, previousDir: string | undefined): Promise<void> {
    this.setState('starting');
    // Let activation finish first: loading the engine's bundle is the slow part of starting.
    await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    const settings = this.settings();
    // Asked now, while the runtime loads and the store opens, not after: VS Code's GitHub session can
    // take seconds to come (it activates the GitHub authentication extension), and the first open as
    // owner waited for it before opening the store, so a reload showed no runs until it came.
    let firstResults: Promise<ExtensionResultsSettings> | undefined = this.resultsSettings(settings.webhookUrls, settings.gitPush);
    try {
      const globalStorage = this.context.globalStorageUri;
      const { openWorkspaceEngine, prepareWorkspaceStore } = loadRuntime(
        globalStorage?.scheme === 'file' ? { codeCacheDir: path.join(globalStorage.fsPath, 'code-cache') } : {},
      );
      this.logger.info(`engine runtime loaded in ${(performance.now() - started).toFixed(1)} ms${runtimeFromCodeCache() ? ' (from the code cache)' : ''}`);
      const { stateDir } = await prepareWorkspaceStore({ stateDir: folderStateDir, ...(previousDir ? { previousDir } : {}), logger: this.logger });
      if (stateDir !== folderStateDir) this.shareStateWithTerminals(stateDir);
      this.openOptions = {
        stateDir,
        cwd,
        concurrency: settings.concurrency,
        defaultModel: settings.defaultModel,
        apiKey: this.apiKey,
        // Read as each agent task starts: a changed setting applies without a reload.
        anthropicBaseUrl: () => this.settings().anthropicBaseUrl || undefined,
        agentRuntime: () => this.settings().agentRuntime,
        claudeCodePath: () => this.settings().claudeCodePath || undefined,
        ...(settings.redisUrl ? { redisUrl: settings.redisUrl } : {}),
        sandbox: settings.sandbox,
        permissions: () => this.settings().permissions,
        budget: () => this.settings().budget,
        ...(settings.permissionTimeoutMs ? { inputTimeoutMs: settings.permissionTimeoutMs } : {}),
        onAgentWarning: (warning) => this.agentWarnings.fire(warning),
        // Read again on a later take-over: the session may have changed since.
        results: () => {
          const results = firstResults ?? this.resultsSettings(settings.webhookUrls, settings.gitPush);
          firstResults = undefined;
          return results;
        },
        logger: this.logger,
      };
      const opened = await openWorkspaceEngine(this.openOptions);
      firstResults = undefined;
      this.logger.info(
        `engine ${opened.kind === 'reader' ? 'opened read-only' : 'ready'} in ${(performance.now() - started).toFixed(1)} ms (state in ${stateDir})`,
      );
      await this.adopt(opened);
      // Once the tree has had its turn: a few MB written, off the path to the first rows.
      setTimeout(saveRuntimeCodeCache, CODE_CACHE_SAVE_DELAY_MS).unref?.();
    } catch (error) {
      this.logger.error('could not open the Orchestr8 engine', error);
      this.setState('failed');
      this.opening = undefined;
    }
  }

  /**
   * What the results hooks need, read when this window is about to own the store: the GitHub session
   * VS Code already has (asked silently: no sign-in prompt; none means pushed branches without pull
   * requests) and the webhook secret. Neither is logged.
   */
  private async resultsSettings(webhookUrls: string[], push: boolean): Promise<ExtensionResultsSettings> {
    const [githubToken, webhookSecret] = await Promise.all([this.githubToken(), this.context.secrets.get(WEBHOOK_SECRET).then(undefined, () => undefined)]);
    return { webhookUrls, push, ...(githubToken ? { githubToken } : {}), ...(webhookSecret ? { webhookSecret } : {}) };
  }

  private async githubToken(): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const session = await Promise.race([
        vscode.authentication.getSession('github', ['repo'], { silent: true }),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), GITHUB_SESSION_TIMEOUT_MS))),
      ]);
      if (!session && (process.env['ORCHESTR8_GITHUB_TOKEN'] || process.env['GITHUB_TOKEN']))
        this.logger.info('no GitHub session in VS Code: pull requests use the token in the environment');
      else if (!session)
        this.logger.info(
          'no GitHub session in VS Code: run branches stay local and no pull requests are opened (sign in to GitHub in the Accounts menu, then reload)',
        );
      return session?.accessToken;
    } catch (error) {
      this.logger.info(`no GitHub session (${errorMessage(error)}): run branches stay local and no pull requests are opened`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Makes `opened` the current engine. */
  private async adopt(opened: WorkspaceEngine): Promise<void> {
    if (this._state === 'stopped') {
      await opened.close();
      return;
    }
    this.subscription?.dispose();
    for (const subscription of this.readOnlySubscriptions.splice(0)) subscription.dispose();
    this.opened = opened;
    this.subscription = opened.engine.onEvent((e) => this.events.fire(e));
    if (opened.kind === 'reader') {
      this.owner = opened.owner ? `pid ${opened.owner.pid} (${opened.owner.command})` : 'another process';
      this.readOnlySubscriptions.push(opened.engine.onDidReload(() => this.reloaded.fire()));
      this.readOnlySubscriptions.push(opened.engine.onOwnerChanged(() => void this.pollOwner()));
      this.startPolling();
    } else this.stopPolling();
    this.setState(opened.kind === 'reader' ? 'read-only' : 'ready', true);
  }

  /** Who owns the store while this window is read-only. */
  owner: string | undefined;

  /**
   * While read-only: take over as soon as the owner goes away (the other window closed, the CLI run
   * ended). The view itself needs no refresh: it follows the owner's journal.
   */
  private startPolling(): void {
    if (this.poll) return;
    this.poll = setInterval(() => void this.pollOwner(), TAKEOVER_CHECK_MS);
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  private polling = false;
  private async pollOwner(): Promise<void> {
    const options = this.openOptions;
    const current = this.opened;
    if (this.polling || !options || current?.kind !== 'reader' || this._state !== 'read-only') return;
    this.polling = true;
    try {
      const owned = await loadRuntime().tryOpenOwner(options);
      if (!owned) return;
      if (this._state !== 'read-only' || this.opened !== current) {
        await owned.close();
        return;
      }
      this.logger.info('the other owner went away: this window now runs the workspace’s tasks');
      await current.close();
      await this.adopt(owned);
    } catch (error) {
      this.logger.warn(`could not take over the workspace’s store: ${String(error)}`);
    } finally {
      this.polling = false;
    }
  }

  /**
   * The engine for a command that changes something. Throws a `UserError` that says why when there is
   * none, or when this window only reads another window's store.
   */
  async writable(): Promise<EngineApi> {
    const engine = await this.readable();
    if (this.readOnly) {
      // A window can be closed to hand over; a CLI run is waited out.
      const next =
        this.opened?.kind === 'reader' && this.opened.owner?.command === 'vscode'
          ? 'Use that window, or close it (this one takes over within seconds).'
          : 'This window takes over within seconds of it finishing.';
      throw new UserError(`This window only shows this workspace’s runs: ${this.owner ?? 'another process'} owns them and runs their tasks. ${next}`);
    }
    return engine;
  }

  /** The engine for a command that only reads. */
  async readable(): Promise<EngineApi> {
    await this.start();
    if (this.opened) return this.opened.engine;
    switch (this._state) {
      case 'untrusted':
        throw new UserError('Orchestr8 runs shell commands and AI agents, so it stays off until you trust this workspace.', [
          { title: 'Manage Workspace Trust', command: 'workbench.trust.manage' },
        ]);
      case 'no-folder':
        throw new UserError('Open a folder first: Orchestr8 keeps its runs per workspace folder.');
      default:
        throw new UserError('Orchestr8 could not start its engine; see the Orchestr8 output for why.');
    }
  }

  /** Resolves once the engine is open (or it is clear it won't open). */
  whenSettled(): Promise<void> {
    if (this._state !== 'starting') return Promise.resolve();
    return new Promise((resolve) => {
      const subscription = this.stateChanged.event((state) => {
        if (state === 'starting') return;
        subscription.dispose();
        resolve();
      });
    });
  }

  private setState(state: EngineHostState, force = false): void {
    if (this._state === state && !force) return;
    this._state = state;
    if (state !== 'stopped') {
      setContext('orchestr8.enabled', state === 'ready' || state === 'read-only');
      setContext('orchestr8.readOnly', state === 'read-only');
      setContext('orchestr8.startFailed', state === 'failed');
    }
    this.stateChanged.fire(state);
  }

  /**
   * Stops the engine: running tasks are interrupted (and resume on next open), the journal is flushed.
   * Idempotent, and every caller waits for the same close: `deactivate` must not return before it ends,
   * or VS Code exits the extension host with the interruptions unsaved.
   */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;
  private readonly stopHooks: Array<() => Promise<void>> = [];

  /** Runs `hook` before the engine closes on stop (while it still answers), e.g. to save what the window handled. */
  onWillStop(hook: () => Promise<void>): vscode.Disposable {
    this.stopHooks.push(hook);
    return new vscode.Disposable(() => {
      const i = this.stopHooks.indexOf(hook);
      if (i >= 0) this.stopHooks.splice(i, 1);
    });
  }

  private async close(): Promise<void> {
    const opening = this.opening;
    this.stopPolling();
    this.setState('stopped');
    // An open still in flight hands its engine to `adopt`, which closes it when it sees `stopped`.
    await opening?.catch(() => {});
    for (const hook of this.stopHooks.splice(0)) {
      await hook().catch((error: unknown) => this.logger.error('a stop hook failed', error));
    }
    const opened = this.opened;
    this.opened = undefined;
    this.subscription?.dispose();
    for (const subscription of this.readOnlySubscriptions.splice(0)) subscription.dispose();
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
    this.reloaded.dispose();
    this.agentWarnings.dispose();
  }

  static describeError(error: unknown): string {
    return error instanceof UserError ? error.message : `Orchestr8: ${errorMessage(error)}`;
  }
}
