import path from 'node:path';
import type { EngineEvent } from '../model/events.ts';
import { readLock, isLockLive, StateOwnedError } from '../store/state-lock.ts';
import { StateStore } from '../store/state-store.ts';
import type { Disposable } from '../util/disposable.ts';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import type { EngineApi } from './engine-api.ts';
import { StateQueries } from './state-queries.ts';
import { QueryFacade } from './query-facade.ts';
import { TaskLogs } from './task-logs.ts';

export interface ReadOnlyOptions {
  logger?: Logger;
  /**
   * Keep up with the owner: follow its journal as it appends (see JournalFollower), apply
   * each record and fire its event. Without it the view stays as of opening.
   */
  follow?: boolean;
  /** The follower's fallback poll of a few file sizes (default 1 s). */
  pollMs?: number;
  /** See `StoreOptions.indexWorker`. */
  indexWorker?: string;
}

/**
 * The engine API over a state folder this process does not own, nothing written: a view
 * as of opening (snapshot + journal) that, when following, keeps up with the owner's
 * journal and fires the events its records stand for. Commands that change state fail
 * with an error naming the owner, who is the one to ask. The database, the journal
 * follower and any reload live in the store's index worker: this thread (a VS Code
 * extension host, say) never loads a snapshot or applies a record.
 */
export class ReadOnlyEngine extends QueryFacade implements EngineApi {
  private readonly events: Emitter<EngineEvent>;
  private readonly reloaded: Emitter<void>;
  private readonly ownerChanged: Emitter<void>;
  private closed = false;
  /** The follower could not go on and the view was loaded afresh (views redraw everything; no events cover the gap). */
  readonly onDidReload: (listener: () => void) => Disposable;
  /** The owner's lock changed (it exited, or another took over): a window may try to take over now. */
  readonly onOwnerChanged: (listener: () => void) => Disposable;

  private constructor(
    private readonly store: StateStore,
    readonly stateDir: string,
    private readonly options: ReadOnlyOptions,
  ) {
    super(new StateQueries(store.index, new TaskLogs(path.join(stateDir, 'logs'))));
    const logger = this.logger;
    this.events = new Emitter((error) => logger.error('event listener failed', error));
    this.reloaded = new Emitter((error) => logger.error('reload listener failed', error));
    this.ownerChanged = new Emitter((error) => logger.error('owner listener failed', error));
    this.onDidReload = this.reloaded.event;
    this.onOwnerChanged = this.ownerChanged.event;
    store.index.onNews((news) => {
      if (news.type === 'followed') for (const event of news.events) this.events.fire(event);
      else if (news.type === 'reloaded') this.reloaded.fire();
      else this.ownerChanged.fire();
    });
  }

  private get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  static async open(stateDir: string, options: Logger | ReadOnlyOptions = {}): Promise<ReadOnlyEngine> {
    const opts: ReadOnlyOptions = isLogger(options) ? { logger: options } : options;
    const store = await StateStore.openReader(stateDir, {
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.indexWorker ? { indexWorker: opts.indexWorker } : {}),
      ...(opts.follow ? { follow: opts.pollMs ? { pollMs: opts.pollMs } : {} } : {}),
    });
    return new ReadOnlyEngine(store, stateDir, opts);
  }

  /** Takes in what the journal holds now (a read right after a write elsewhere must see it); waits for a reload in progress. */
  async refresh(): Promise<void> {
    if (this.options.follow && !this.closed) await this.store.index.catchUp();
  }

  /** The last journal record this view holds. */
  get lastSeq(): number {
    return this.store.index.postedSeq;
  }

  private refuse(verb: string): never {
    const owner = readLock(this.stateDir);
    if (owner && isLockLive(owner)) throw new StateOwnedError(this.stateDir, owner);
    throw new Error(`cannot ${verb}: ${this.stateDir} was opened read-only`);
  }

  launch = async (): Promise<never> => this.refuse('launch');
  cancel = async (): Promise<never> => this.refuse('cancel');
  retry = async (): Promise<never> => this.refuse('retry');
  signal = async (): Promise<never> => this.refuse('signal');
  answer = async (): Promise<never> => this.refuse('answer');
  pause = async (): Promise<never> => this.refuse('pause');
  resume = async (): Promise<never> => this.refuse('resume');
  followUp = async (): Promise<never> => this.refuse('continue a task');
  markDelivered = async (): Promise<never> => this.refuse('mark notifications delivered');
  clearFinished = async (): Promise<never> => this.refuse('clear runs');

  /** The owner's transitions as its journal records them (when following; a snapshot view hears of nothing). */
  onEvent(listener: (event: EngineEvent) => void): Disposable {
    return this.events.event(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.dispose();
    this.reloaded.dispose();
    this.ownerChanged.dispose();
    await this.store.close();
  }
}

function isLogger(value: Logger | ReadOnlyOptions): value is Logger {
  return typeof (value as Logger).info === 'function';
}
