import type { Disposable } from '../util/disposable.ts';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { activeStateFromQueries } from './active-state.ts';
import type { ActiveState } from './active-state.ts';
import { IndexCore } from './index-worker/index-core.ts';
import type { IndexQueries, QueryName } from './index-worker/protocol.ts';
import { QUERY_NAMES } from './index-worker/protocol.ts';
import type { LockInfo } from './state-lock.ts';
import type { StorageState } from './storage-full.ts';
import type { SequencedRecord, StoreRecord } from './store-records.ts';

/**
 * Where the engine's state lives, as the engine sees it: records go in through `commit`
 * (resolved once durable, with the first record's seq), and every read is an asynchronous
 * query of `index` that sees all commits acknowledged before it was asked. StateStore is the
 * durable one (journal + index worker); MemoryBackend its in-process twin for fast tests.
 */
export interface StateBackend {
  /** Every read of the state; an answer includes every commit acknowledged before the question. */
  readonly index: IndexQueries;
  /** Makes records durable, then resolves with the seq of the first (the others follow one by one). */
  commit(records: StoreRecord[]): Promise<number>;
  /** Whether commits are being saved or wait for disk space. */
  readonly storage: StorageState;
  /** The storage paused on a full disk, or saves again. */
  readonly onStorage: (listener: (state: StorageState) => void) => Disposable;
  /** Owner mode: the lock held and the dead owner taken over from, if any. */
  readonly lock?: { info: LockInfo; previous?: LockInfo; release(): void } | undefined;
  readonly readOnly: boolean;
  /** The runs recovery takes up (not finished, or not finalized), with their tasks. Call once, right after opening, before any commit. */
  activeState(): Promise<ActiveState>;
  /** Folds what was committed so far into a snapshot (a no-op without files). */
  snapshot(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The in-memory twin of StateStore: no folder, no worker, no fsync. Records are applied by
 * the same IndexCore (the same sql.js tables and queries) in this thread, so a test against
 * it sees what the durable store would answer, only faster. Nothing survives `close`.
 */
export class MemoryBackend implements StateBackend {
  readonly index: IndexQueries;
  readonly storage: StorageState = { state: 'ok' };
  readonly readOnly = false;
  private readonly storageChanged = new Emitter<StorageState>();
  readonly onStorage = this.storageChanged.event;
  private lastSeq = 0;
  private closed = false;

  private constructor(private readonly core: IndexCore) {
    const index = {} as Record<QueryName, (...args: unknown[]) => Promise<unknown>>;
    // Answered in a later turn, as the worker does: a caller cannot come to rely on a synchronous answer.
    for (const name of QUERY_NAMES) index[name] = async (...args) => structuredClone(core.query(name, args));
    this.index = index as unknown as IndexQueries;
  }

  static async open(logger: Logger = silentLogger): Promise<MemoryBackend> {
    return new MemoryBackend(await IndexCore.empty(logger));
  }

  async commit(records: StoreRecord[]): Promise<number> {
    if (this.closed) throw new Error('state store is closed');
    const firstSeq = this.lastSeq + 1;
    const entries: SequencedRecord[] = records.map((record) => ({ seq: ++this.lastSeq, record: structuredClone(record) }));
    this.core.applyEntries(entries);
    return firstSeq;
  }

  activeState(): Promise<ActiveState> {
    return activeStateFromQueries(this.index);
  }

  async snapshot(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.storageChanged.dispose();
    this.core.close();
  }
}
