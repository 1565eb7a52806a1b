import path from 'node:path';
import type { EngineEvent } from '../model/events.ts';
import { JournalFollower } from '../store/journal-follower.ts';
import { readLock, isLockLive, StateOwnedError } from '../store/state-lock.ts';
import { StateStore } from '../store/state-store.ts';
import type { Disposable } from '../util/disposable.ts';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import type { EngineApi } from './engine-api.ts';
import { eventsFromRecords } from './followed-events.ts';
import { StateQueries } from './state-queries.ts';
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
}

/**
 * The engine API over a state folder this process does not own, nothing written: a view
 * as of opening (snapshot + journal) that, when following, keeps up with the owner's
 * journal and fires the events its records stand for. Commands that change state fail
 * with an error naming the owner, who is the one to ask.
 */
export class ReadOnlyEngine implements EngineApi {
  private readonly queries: StateQueries;
  private follower: JournalFollower | undefined;
  private readonly events: Emitter<EngineEvent>;
  private readonly reloaded: Emitter<void>;
  private readonly ownerChanged: Emitter<void>;
  private reloading: Promise<void> | undefined;
  private closed = false;
  /** The follower could not go on and the view was loaded afresh (views redraw everything; no events cover the gap). */
  readonly onDidReload: (listener: () => void) => Disposable;
  /** The owner's lock changed (it exited, or another took over): a window may try to take over now. */
  readonly onOwnerChanged: (listener: () => void) => Disposable;

  private constructor(
    private store: StateStore,
    readonly stateDir: string,
    private readonly options: ReadOnlyOptions,
  ) {
    this.queries = new StateQueries(() => this.store.db, new TaskLogs(path.join(stateDir, 'logs')));
    const logger = this.logger;
    this.events = new Emitter((error) => logger.error('event listener failed', error));
    this.reloaded = new Emitter((error) => logger.error('reload listener failed', error));
    this.ownerChanged = new Emitter((error) => logger.error('owner listener failed', error));
    this.onDidReload = this.reloaded.event;
    this.onOwnerChanged = this.ownerChanged.event;
    if (options.follow) this.follow();
  }

  private get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  static async open(stateDir: string, options: Logger | ReadOnlyOptions = {}): Promise<ReadOnlyEngine> {
    const opts: ReadOnlyOptions = isLogger(options) ? { logger: options } : options;
    const store = await StateStore.openReader(stateDir, opts.logger ? { logger: opts.logger } : {});
    return new ReadOnlyEngine(store, stateDir, opts);
  }

  /** Takes in what the journal holds now (a read right after a write elsewhere must see it); waits for a reload in progress. */
  async refresh(): Promise<void> {
    this.follower?.catchUp();
    await this.reloading;
  }

  /** The last journal record this view holds. */
  get lastSeq(): number {
    return this.follower?.lastSeq ?? this.store.db.lastSeq;
  }

  private follow(afterSeq = this.store.db.lastSeq): void {
    const follower = new JournalFollower(this.stateDir, afterSeq, { logger: this.logger, ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}) });
    this.follower = follower;
    follower.onRecords((entries) => {
      this.store.db.apply(entries);
      if (this.events.size === 0) return;
      for (const event of eventsFromRecords(this.store.db, entries)) this.events.fire(event);
    });
    follower.onOwnerChanged(() => this.ownerChanged.fire());
    follower.onLost((lost) => {
      this.reloading = this.reload(lost.afterSeq, lost.firstAvailable).finally(() => (this.reloading = undefined));
    });
  }

  /** Loads the store afresh, once, when the records after `afterSeq` were folded away before the follower read them. */
  private async reload(afterSeq: number, firstAvailable: number | undefined): Promise<void> {
    this.follower?.dispose();
    this.follower = undefined;
    if (this.closed) return;
    this.logger.info(`read-only view: the journal after seq ${afterSeq} was folded into a snapshot; reloading the store once`);
    try {
      const fresh = await StateStore.openReader(this.stateDir, { logger: this.logger });
      if (this.closed) return void (await fresh.close());
      const old = this.store;
      this.store = fresh;
      await old.close();
      // A gap no snapshot fills either (records lost to damage): follow on from past it rather than reload again.
      const from = fresh.db.lastSeq <= afterSeq && firstAvailable !== undefined ? Math.max(fresh.db.lastSeq, firstAvailable - 1) : fresh.db.lastSeq;
      this.follow(from);
      this.reloaded.fire();
    } catch (error) {
      this.logger.error(`read-only view: reload failed (${errorMessage(error)}); it shows the state as of seq ${afterSeq}`);
    }
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
  markDelivered = async (): Promise<never> => this.refuse('mark notifications delivered');
  clearFinished = async (): Promise<never> => this.refuse('clear runs');

  /** The owner's transitions as its journal records them (when following; a snapshot view hears of nothing). */
  onEvent(listener: (event: EngineEvent) => void): Disposable {
    return this.events.event(listener);
  }

  // ---- queries: the StateQueries this view holds answers them ---------

  readonly resolveRunId = (id: string): string => this.queries.resolveRunId(id);
  readonly resolveTaskId = (id: string): string => this.queries.resolveTaskId(id);
  readonly status: EngineApi['status'] = (runId) => this.queries.status(runId);
  readonly task: EngineApi['task'] = (taskId) => this.queries.task(taskId);
  readonly result: EngineApi['result'] = (taskId) => this.queries.result(taskId);
  readonly list: EngineApi['list'] = (options) => this.queries.list(options);
  readonly usage: EngineApi['usage'] = (id) => this.queries.usage(id);
  readonly gates: EngineApi['gates'] = (runId) => this.queries.gates(runId);
  readonly tokenUsage: EngineApi['tokenUsage'] = (taskId) => this.queries.tokenUsage(taskId);
  readonly log: EngineApi['log'] = (taskId) => this.queries.log(taskId);
  readonly undeliveredNotifications: EngineApi['undeliveredNotifications'] = () => this.queries.undeliveredNotifications();
  readonly eventsAfter: StateQueries['eventsAfter'] = (seq, limit) => this.queries.eventsAfter(seq, limit);
  readonly webhookDeliveries: StateQueries['webhookDeliveries'] = (state, limit) => this.queries.webhookDeliveries(state, limit);

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.follower?.dispose();
    await this.reloading;
    this.events.dispose();
    this.reloaded.dispose();
    this.ownerChanged.dispose();
    await this.store.close();
  }
}

function isLogger(value: Logger | ReadOnlyOptions): value is Logger {
  return typeof (value as Logger).info === 'function';
}
