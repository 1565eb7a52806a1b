import path from 'node:path';
import type { EngineEvent } from '../model/events.ts';
import type { StateDb } from '../store/state-db.ts';
import { readLock, isLockLive, StateOwnedError } from '../store/state-lock.ts';
import { StateStore } from '../store/state-store.ts';
import type { Disposable } from '../util/disposable.ts';
import type { Logger } from '../util/logger.ts';
import { StateQueries } from './state-queries.ts';
import { TaskLogs } from './task-logs.ts';

/**
 * The engine API over a state folder this process does not own: a view as of
 * opening (snapshot + journal), nothing written. Commands that change state fail
 * with an error naming the owner, who is the one to ask.
 */
export class ReadOnlyEngine extends StateQueries {
  protected readonly logs: TaskLogs;

  private constructor(
    private readonly store: StateStore,
    readonly stateDir: string,
  ) {
    super();
    this.logs = new TaskLogs(path.join(stateDir, 'logs'));
  }

  protected get db(): StateDb {
    return this.store.db;
  }

  static async open(stateDir: string, logger?: Logger): Promise<ReadOnlyEngine> {
    return new ReadOnlyEngine(await StateStore.openReader(stateDir, logger ? { logger } : {}), stateDir);
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

  /** A snapshot view hears of nothing. */
  onEvent(_listener: (event: EngineEvent) => void): Disposable {
    return { dispose() {} };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
