import type { EngineApi } from '../../core/engine/engine-api.ts';
import { Engine, type EngineOptions } from '../../core/engine/engine.ts';
import { ReadOnlyEngine } from '../../core/engine/read-only-engine.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import { isLockLive, readLock, StateOwnedError } from '../../core/store/state-lock.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { Emitter } from '../../core/util/emitter.ts';
import { silentLogger } from '../../core/util/logger.ts';

/**
 * How a front end that may or may not own the state folder reaches the engine.
 * `owner`: this process runs the tasks. `read-only`: another process (VS Code, a
 * CLI background owner) does; reads see its latest durable state and commands fail
 * naming it (until the local HTTP API lets them go to the owner).
 */
export interface EngineAccess {
  readonly mode: 'owner' | 'read-only';
  /** Calls `fn` with the engine API as of now: the owned engine, or a fresh read-only view. */
  use<T>(fn: (api: EngineApi) => Promise<T>): Promise<T>;
  /** Engine events; only an owner hears them (a read-only view is a snapshot). */
  onEvent(listener: (event: EngineEvent) => void): Disposable;
  /** Unfinished runs this process is running (0 when read-only). */
  readonly activeRunCount: number;
  close(): Promise<void>;
}

/**
 * `EngineAccess` over a state folder: owns it when nobody does, else reads the
 * owner's durable state, opening a fresh view for each call so status stays
 * current. Takes over as soon as the owner is gone (its runs resume here).
 */
export class StateFolderAccess implements EngineAccess {
  private engine: Engine | undefined;
  private subscription: Disposable | undefined;
  private readonly events = new Emitter<EngineEvent>((error) => this.options.logger?.error('event listener failed', error));
  private closed = false;

  private constructor(private readonly options: EngineOptions) {}

  static async open(options: EngineOptions): Promise<StateFolderAccess> {
    const access = new StateFolderAccess(options);
    await access.tryOwn();
    return access;
  }

  get mode(): 'owner' | 'read-only' {
    return this.engine ? 'owner' : 'read-only';
  }

  get activeRunCount(): number {
    return this.engine?.activeRunCount ?? 0;
  }

  readonly onEvent = this.events.event;

  async use<T>(fn: (api: EngineApi) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the engine is closed');
    if (!this.engine) {
      const owner = readLock(this.options.stateDir);
      if (!owner || !isLockLive(owner)) await this.tryOwn();
    }
    if (this.engine) return fn(this.engine);
    const reader = await ReadOnlyEngine.open(this.options.stateDir, this.options.logger ?? silentLogger);
    try {
      return await fn(reader);
    } finally {
      await reader.close();
    }
  }

  private async tryOwn(): Promise<void> {
    try {
      this.engine = await Engine.open(this.options);
      this.subscription = this.engine.onEvent((e) => this.events.fire(e));
      this.options.logger?.info(`owns the state in ${this.options.stateDir}`);
    } catch (error) {
      if (!(error instanceof StateOwnedError)) throw error;
      this.options.logger?.info(`${error.message}: reading it, commands go to the owner`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.dispose();
    this.events.dispose();
    await this.engine?.close();
    this.engine = undefined;
  }
}
