import { replayEvents } from '../../engine/event-replay.ts';
import { eventsFromRecords } from '../../engine/followed-events.ts';
import type { Logger } from '../../util/logger.ts';
import { errorMessage } from '../../util/logger.ts';
import { JournalFollower } from '../journal-follower.ts';
import { scanFrames } from '../journal-format.ts';
import { encodeActiveSidecar } from '../active-sidecar.ts';
import { writeSnapshot } from '../snapshot-files.ts';
import { StateDb } from '../state-db.ts';
import type { SequencedRecord } from '../store-records.ts';
import { loadForReading, loadState } from './load-state.ts';
import type { FromIndex, Opened, QueryName, SyncQueries, Written } from './protocol.ts';
import { QUERY_NAMES } from './protocol.ts';

/** What a following reader's index tells its thread (the `followed`, `reloaded` and `owner-changed` messages). */
export type FollowNews = Extract<FromIndex, { type: 'followed' | 'reloaded' | 'owner-changed' }>;

/**
 * The queryable state and everything done to it, in the thread that owns it: the sql.js
 * database (StateDb), loaded from snapshot + journal, each durable batch applied once,
 * queries answered, snapshots written from it. The index worker runs one; the in-memory
 * backend runs one in-process (no folder), so both answer every query the same way.
 */
export class IndexCore {
  private follower: JournalFollower | undefined;
  /** A reload in progress (see `follow`). */
  private reloading: Promise<void> | undefined;
  private closed = false;
  /** Queries waiting for records not applied yet (read-your-writes), in arrival order. */
  private waiting: { atLeast: number; run: () => void }[] = [];
  readonly queries: SyncQueries;

  private constructor(
    private db: StateDb,
    private readonly logger: Logger,
  ) {
    this.queries = this.bindQueries();
  }

  /** An empty database, no folder (the in-memory backend). */
  static async empty(logger: Logger): Promise<IndexCore> {
    return new IndexCore(await StateDb.open(), logger);
  }

  /** Loads a folder: as its owner (`repair`; behind an owner already at work: `journalUpTo`), or as a reader. */
  static async load(stateDir: string, repair: boolean, logger: Logger, journalUpTo?: number): Promise<{ core: IndexCore; opened: Opened }> {
    const { db, lastSeq, snapshots } = repair ? await loadState(stateDir, true, logger, journalUpTo) : await loadForReading(stateDir, logger);
    return { core: new IndexCore(db, logger), opened: { lastSeq, snapshots } };
  }

  get lastSeq(): number {
    return this.db.lastSeq;
  }

  /**
   * A durable batch, as the journal wrote it. Applied lazily (StateDb.defer): several group
   * commits go into one transaction, and any query catches up first.
   */
  applyFrames(firstSeq: number, frames: Uint8Array): void {
    const buf = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength);
    const scan = scanFrames(buf, firstSeq);
    // These bytes were just written and fsynced by this process: a bad frame is a bug, never damage.
    if (scan.damaged.length || scan.tail) throw new Error(`index: a posted batch from seq ${firstSeq} does not decode`);
    this.applyEntries(scan.entries);
  }

  applyEntries(entries: readonly SequencedRecord[]): void {
    if (entries.length === 0) return;
    this.db.defer(entries);
    this.release();
  }

  /** Runs `run` once every record up to `atLeast` is applied: at once, or when the batch holding it arrives. */
  whenAt(atLeast: number, run: () => void): void {
    if (this.db.lastSeq >= atLeast) run();
    else this.waiting.push({ atLeast, run });
  }

  query(name: QueryName, args: unknown[]): unknown {
    if (!QUERY_NAMES.includes(name)) throw new Error(`index: no query ${String(name)}`);
    return (this.queries[name] as (...a: unknown[]) => unknown)(...args);
  }

  /** Writes a snapshot of everything applied (with its checksum; see snapshot-files.ts). */
  async snapshot(stateDir: string): Promise<Written> {
    const started = Date.now();
    const bytes = this.db.export();
    // Read in the same turn as the export: the sidecar holds the active runs of exactly that state.
    const lastSeq = this.db.lastSeq;
    const sidecar = encodeActiveSidecar({ lastSeq, ...this.db.activeRuns() });
    const snapshot = await writeSnapshot(stateDir, lastSeq, bytes, sidecar);
    return { snapshot, bytes: bytes.length, ms: Date.now() - started };
  }

  /**
   * Reader: tails the owner's journal from what was loaded, applies each record and tells
   * `news` the events they stand for. When the records it needs were folded away it loads the
   * folder afresh (once per fold) and goes on from there.
   */
  follow(stateDir: string, news: (message: FollowNews) => void, pollMs?: number, afterSeq = this.db.lastSeq): void {
    const follower = new JournalFollower(stateDir, afterSeq, { logger: this.logger, ...(pollMs ? { pollMs } : {}) });
    this.follower = follower;
    follower.onRecords((entries) => {
      this.db.apply(entries);
      news({ type: 'followed', lastSeq: this.db.lastSeq, events: eventsFromRecords(this.db, entries) });
      this.release();
    });
    follower.onOwnerChanged(() => news({ type: 'owner-changed' }));
    follower.onLost((lost) => {
      this.reloading ??= this.reload(stateDir, news, pollMs, lost.afterSeq, lost.firstAvailable).finally(() => (this.reloading = undefined));
    });
  }

  /** Reader: takes in what the journal holds now (waiting out a reload in progress). */
  async catchUp(): Promise<number> {
    this.follower?.catchUp();
    await this.reloading;
    return this.db.lastSeq;
  }

  private async reload(
    stateDir: string,
    news: (message: FollowNews) => void,
    pollMs: number | undefined,
    afterSeq: number,
    firstAvailable: number | undefined,
  ): Promise<void> {
    this.follower?.dispose();
    this.follower = undefined;
    if (this.closed) return;
    this.logger.info(`read-only view: the journal after seq ${afterSeq} was folded into a snapshot; reloading the store once`);
    try {
      const fresh = await loadForReading(stateDir, this.logger);
      if (this.closed) return fresh.db.close();
      this.db.close();
      this.db = fresh.db;
      // A gap no snapshot fills either (records lost to damage): follow on from past it rather than reload again.
      const lastSeq = fresh.db.lastSeq;
      const from = lastSeq <= afterSeq && firstAvailable !== undefined ? Math.max(lastSeq, firstAvailable - 1) : lastSeq;
      this.follow(stateDir, news, pollMs, from);
      news({ type: 'reloaded', lastSeq: this.db.lastSeq });
      this.release();
    } catch (error) {
      this.logger.error(`read-only view: reload failed (${errorMessage(error)}); it shows the state as of seq ${afterSeq}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.follower?.dispose();
    this.db.close();
  }

  /** Runs the queries that were waiting for records now applied. */
  private release(): void {
    if (this.waiting.length === 0) return;
    const lastSeq = this.db.lastSeq;
    const ready = this.waiting.filter((w) => w.atLeast <= lastSeq);
    this.waiting = this.waiting.filter((w) => w.atLeast > lastSeq);
    for (const w of ready) w.run();
  }

  private bindQueries(): SyncQueries {
    // Through `this.db` at call time: a reader's reload swaps the database.
    const q = {} as Record<QueryName, (...args: never[]) => unknown>;
    for (const name of QUERY_NAMES) {
      if (name === 'replayEvents') q[name] = (seq: number, limit?: number) => replayEvents(this.db, seq, limit);
      else if (name === 'lastSeq') q[name] = () => this.db.lastSeq;
      else q[name] = (...args: never[]) => (this.db[name] as (...a: never[]) => unknown).apply(this.db, args);
    }
    return q as unknown as SyncQueries;
  }
}
