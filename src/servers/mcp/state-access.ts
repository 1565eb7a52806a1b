import fs from 'node:fs';
import type { EngineApi } from '../../core/engine/engine-api.ts';
import type { EngineOptions } from '../../core/engine/engine-options.ts';
import type { ReadOnlyEngine } from '../../core/engine/read-only-engine.ts';
import { NotFoundError } from '../../core/engine/errors.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import { liveOwner, StateOwnedError } from '../../core/store/state-lock.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { Emitter } from '../../core/util/emitter.ts';
import { silentLogger } from '../../core/util/logger.ts';
import type { ApiClient } from '../http/api-client.ts';
import { connectRemote, openOwnerStack, openReader, type OwnerStack, type OwnerStackOptions, type ReaderAccess, type RemoteAccess } from '../engine-access.ts';

/** Longest wait for the live owner's event stream before a command is sent anyway. */
const STREAM_CONNECT_TIMEOUT_MS = 2000;

export interface StateFolderAccessOptions extends EngineOptions {
  /** How long ownership is kept after the last run ends, so a quick next launch does not reopen (default 1 s). */
  releaseAfterMs?: number;
  /** What runs beside the engine while this process owns the state (see `openOwnerStack`); default: the engine alone. */
  services?: Pick<OwnerStackOptions, 'api' | 'results'>;
}

/** Events only the owner's live stream carries: the journal has no record of them. */
const LIVE_ONLY: ReadonlySet<EngineEvent['type']> = new Set(['task.progress', 'engine.storage']);

/**
 * How `orchestr8 mcp` reaches the engine of a state folder that a long-lived agent session
 * shares with VS Code and the CLI, moving between the three kinds of `EngineAccess`. It owns the folder only while it has work: the first write
 * opens the engine (and resumes runs a dead owner left), and once its runs are done
 * it lets go, so an editor opened meanwhile can take over. Otherwise it keeps one
 * read-only view that follows the owner's journal (its events are this access's
 * events) and catches up before each read, so status is never stale and nothing is
 * reopened. When another live process holds the folder, commands go through its local
 * API; without one they fail naming that process.
 */
export class StateFolderAccess {
  private owned: OwnerStack | undefined;
  private subscription: Disposable | undefined;
  private remote: { access: RemoteAccess; subscription: Disposable } | undefined;
  /** The following view while another process (or nobody) owns the state. */
  private reader: Promise<ReaderAccess> | undefined;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Opening and closing the engine, one at a time. */
  private transition: Promise<void> = Promise.resolve();
  private readonly events = new Emitter<EngineEvent>((error) => this.options.logger?.error('event listener failed', error));
  private closed = false;

  constructor(private readonly options: StateFolderAccessOptions) {}

  /** `owner` while this process runs tasks; `read-only` otherwise (commands then go to the owner, or make this process it). */
  get mode(): 'owner' | 'read-only' {
    return this.owned ? 'owner' : 'read-only';
  }

  /** Unfinished runs this process is running. */
  get activeRunCount(): number {
    return this.owned?.engine.activeRunCount ?? 0;
  }

  /** Engine events: of this process while it owns the state, else of the owner it follows. */
  readonly onEvent = this.events.event;

  /** Calls `fn` with the engine API as of now; `write` (a launch, a cancel) needs ownership. */
  async use<T>(fn: (api: EngineApi) => Promise<T>, mode: 'read' | 'write' = 'read'): Promise<T> {
    if (this.closed) throw new Error('the engine is closed');
    await this.transition;
    if (mode === 'write' && !this.owned) {
      try {
        await this.serially(() => this.own());
      } catch (error) {
        if (!(error instanceof StateOwnedError)) throw error;
        const client = await this.ownerApi();
        if (!client) throw error;
        return await fn(client);
      }
    }
    const owned = this.owned;
    if (owned) {
      try {
        return await fn(owned.engine);
      } finally {
        this.releaseWhenIdle();
      }
    }
    const reader = await this.follow();
    if (!reader) throw new NotFoundError(`no runs yet (no state in ${this.options.stateDir})`);
    // Read-your-writes: a launch through the owner's API is durable before it answers; take it in now.
    await reader.refresh();
    return await fn(reader);
  }

  /** The following view (opened once, while this process does not own the state); none before the state folder exists. */
  private async follow(): Promise<ReadOnlyEngine | undefined> {
    if (!this.reader) {
      if (!fs.existsSync(this.options.stateDir)) return undefined;
      const opening = openReader(this.options.stateDir, this.options.logger ?? silentLogger).then((reader) => {
        reader.engine.onEvent((e) => this.events.fire(e));
        return reader;
      });
      this.reader = opening;
      opening.catch(() => (this.reader === opening ? (this.reader = undefined) : undefined));
    }
    return (await this.reader).engine;
  }

  private async stopFollowing(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    await (await reader?.catch(() => undefined))?.close();
  }

  /**
   * The live owner's API, and its event stream followed from now on (until that owner goes
   * or this process owns the state), so tasks launched through it are announced here too.
   */
  private async ownerApi(): Promise<ApiClient | undefined> {
    const access = await connectRemote(this.options.stateDir);
    if (!access) return undefined;
    const client = access.engine;
    if (this.remote?.access.engine.url === client.url) {
      await access.close();
      return this.remote.access.engine;
    }
    this.dropRemote();
    // The journal brings every transition (whoever launched it); the owner's stream adds what it never records.
    await this.follow();
    const subscription = client.followEvents((e) => LIVE_ONLY.has(e.type) && this.events.fire(e));
    this.remote = { access, subscription };
    // Only then send the command: a task that ends at once must still be announced.
    await Promise.race([subscription.connected, new Promise((resolve) => setTimeout(resolve, STREAM_CONNECT_TIMEOUT_MS).unref())]);
    return client;
  }

  private dropRemote(): void {
    this.remote?.subscription.dispose();
    void this.remote?.access.close();
    this.remote = undefined;
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => {});
    return next;
  }

  /** Becomes the owner; a StateOwnedError (another live owner) goes to the caller, naming it. */
  private async own(): Promise<void> {
    if (this.owned) return;
    // A live owner refuses us anyway: keep following it rather than reopen the view after the refusal.
    const lock = liveOwner(this.options.stateDir);
    if (lock) throw new StateOwnedError(this.options.stateDir, lock);
    // Our own engine fires our events; a view following our own journal would repeat them.
    await this.stopFollowing();
    const { releaseAfterMs: _, services, ...engineOptions } = this.options;
    const owned = await openOwnerStack({ ...engineOptions, api: services?.api ?? false, results: services?.results ?? false });
    this.owned = owned;
    this.dropRemote();
    this.subscription = owned.engine.onEvent((e) => {
      this.events.fire(e);
      if (e.type.startsWith('workflow.')) this.releaseWhenIdle();
    });
    this.options.logger?.info(`owns the state in ${this.options.stateDir}`);
  }

  /** Lets go of the state once no run of ours is left (after a grace period; a new launch cancels it). */
  private releaseWhenIdle(): void {
    clearTimeout(this.releaseTimer);
    if (!this.owned || this.owned.engine.activeRunCount > 0 || this.closed) return;
    this.releaseTimer = setTimeout(() => {
      void this.serially(async () => {
        if (!this.owned || this.owned.engine.activeRunCount > 0) return;
        await this.release();
        this.options.logger?.info(`released the state in ${this.options.stateDir} (no runs left)`);
        // Hear whoever owns it next.
        await this.follow().catch(() => undefined);
      });
    }, this.options.releaseAfterMs ?? 1000);
  }

  private async release(): Promise<void> {
    const owned = this.owned;
    this.owned = undefined;
    this.subscription?.dispose();
    await owned?.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.releaseTimer);
    this.dropRemote();
    await this.transition;
    await this.release();
    await this.stopFollowing();
    this.events.dispose();
  }
}
