import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.ts';
import { Emitter } from '../util/emitter.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { fsyncDirAsync } from './fs-durable.ts';
import { crashPoint } from '../util/crash-points.ts';
import type { StateBackend } from './backend.ts';
import { JournalWriter, listSegments } from './journal.ts';
import type { JournalSegment } from './journal.ts';
import { removeIncompleteSnapshots, removeSnapshot } from './snapshot-files.ts';
import type { SnapshotFile } from './snapshot-files.ts';
import { StateIndex } from './state-index.ts';
import type { StateIndexOptions } from './state-index.ts';
import { activeStateFromQueries } from './active-state.ts';
import type { ActiveState } from './active-state.ts';
import { quickOpen } from './quick-open.ts';
import { writeStateGitIgnore } from './state-gitignore.ts';
import { acquireLock } from './state-lock.ts';
import type { LockInfo } from './state-lock.ts';
import type { StorageState } from './storage-full.ts';
import type { StoreRecord } from './store-records.ts';
import type { Written } from './index-worker/protocol.ts';

export interface StoreOptions {
  logger?: Logger;
  /** Owner label written into the lock file (named in errors seen by other processes). */
  command?: string;
  /** Journal bytes after which a snapshot is taken (default 4 MiB). */
  snapshotThreshold?: number;
  /** The built index worker (`dist/index-worker.cjs`); see StateIndexOptions.script. */
  indexWorker?: string;
  /** How far the index worker may fall behind, and how often it is started again; see StateIndexOptions. */
  index?: Pick<StateIndexOptions, 'maxBehindBytes' | 'maxRespawns'>;
}

export interface ReaderOptions extends StoreOptions {
  /**
   * Keep up with the owner: the index worker tails its journal and applies each record (see
   * JournalFollower); `index.onNews` tells of them. Without it the view stays as of opening.
   */
  follow?: { pollMs?: number };
}

/**
 * Durable state of one folder: checksummed snapshots (sql.js exports; see snapshot-files.ts)
 * plus `journal/*.journal` (the records, kept back to the previous snapshot). One process owns
 * a folder and writes; any number may read it. This thread holds only the journal writer: the
 * database lives in the index worker (state-index.ts), which loads it, applies each durable
 * batch, answers every query and writes the snapshots.
 */
export class StateStore implements StateBackend {
  private journal: JournalWriter | undefined;
  private snapshotting: Promise<void> | undefined;
  private closed = false;
  /**
   * Journal bytes above the newest snapshot that earlier owners wrote: a history built by many
   * short-lived owners (CLI commands, windows) must fold too, or every open replays all of it.
   */
  private inherited = 0;
  /** Snapshots on disk that the owner keeps, newest first: the newest two, once it has written one. */
  private generations: SnapshotFile[] = [];
  /** The index's first full load (which also tells the generations on disk): a snapshot waits for it. */
  private loaded: Promise<void> = Promise.resolve();
  /** The runs to recover, known before the index loaded (quick open); handed out once. */
  private activeAtOpen: ActiveState | undefined;
  private readonly storageChanged = new Emitter<StorageState>((error) => this.logger.error('storage listener failed', error));
  /** The journal paused on a full disk, or wrote again: commits wait (they are not rejected) while paused. */
  readonly onStorage = this.storageChanged.event;

  private constructor(
    readonly stateDir: string,
    /** Every query of the state, answered by the worker. */
    readonly index: StateIndex,
    private readonly logger: Logger,
    private readonly snapshotThreshold: number,
    /** Set in owner mode: the lock we hold and the dead owner we took over from, if any. */
    readonly lock?: { info: LockInfo; previous?: LockInfo; release(): void },
  ) {}

  /**
   * Opens as the one writer: takes the lock (or throws StateOwnedError), cuts a torn journal
   * tail, resumes appending. In two phases when it can (quick-open.ts): it takes work as soon
   * as the journal's tail and the active runs are known, from the newest snapshot's active-set
   * sidecar and the journal after it, while the index worker loads the whole history behind
   * (queries wait for that load, and see every batch committed before they were asked).
   */
  static async openOwner(stateDir: string, options: StoreOptions = {}): Promise<StateStore> {
    const logger = options.logger ?? silentLogger;
    const lock = acquireLock(stateDir, options.command ?? 'orchestr8');
    let index: StateIndex | undefined;
    try {
      removeStaleTemps(stateDir);
      removeIncompleteSnapshots(stateDir);
      const ignored = writeStateGitIgnore(stateDir).catch((error) => logger.warn(`could not write ${stateDir}/.gitignore: ${errorMessage(error)}`));
      const quick = quickOpen(stateDir, logger);
      let lastSeq: number;
      let snapshotSeq: number;
      let loaded: Promise<SnapshotFile[]>;
      if (quick) {
        index = await StateIndex.loadBehind(stateDir, quick.lastSeq, indexOptions(options, logger));
        logger.debug(`open: taking work at seq ${quick.lastSeq} with ${quick.active.runs.length} active runs; the index loads the history behind`);
        ({ lastSeq, snapshotSeq } = quick);
        loaded = index.loaded.then((opened) => opened.snapshots);
      } else {
        const full = await StateIndex.open(stateDir, { repair: true }, indexOptions(options, logger));
        index = full.index;
        lastSeq = full.opened.lastSeq;
        snapshotSeq = full.opened.snapshots[0]?.lastSeq ?? 0;
        loaded = Promise.resolve(full.opened.snapshots);
      }
      await ignored;
      const store = new StateStore(stateDir, index, logger, options.snapshotThreshold ?? 4 * 1024 * 1024, lock);
      store.activeAtOpen = quick?.active;
      store.loaded = loaded.then((snapshots) => {
        store.generations = snapshots;
      });
      store.loaded.catch(() => {}); // reported by the index; a snapshot waiting on it fails and says so
      store.inherited = unsnapshottedBytes(stateDir, snapshotSeq);
      const posting = index;
      store.journal = new JournalWriter(
        journalDir(stateDir),
        lastSeq,
        (entries, frames) => entries.length && posting.post(entries[0]!.seq, entries.at(-1)!.seq, frames),
        {
          onStorage: (state) => store.storageChanged.fire(state),
        },
      );
      return store;
    } catch (error) {
      await index?.close();
      lock.release();
      throw error;
    }
  }

  /** Opens a read-only view: the worker loads the snapshot and replays the journal (and follows it, if asked); writes nothing. */
  static async openReader(stateDir: string, options: ReaderOptions = {}): Promise<StateStore> {
    const logger = options.logger ?? silentLogger;
    const { index } = await StateIndex.open(stateDir, { repair: false, ...(options.follow ? { follow: options.follow } : {}) }, indexOptions(options, logger));
    return new StateStore(stateDir, index, logger, 0);
  }

  /** Journal bytes the next open would replay on top of the newest snapshot. */
  private get unsnapshotted(): number {
    return this.inherited + (this.journal?.size ?? 0);
  }

  /** The runs recovery takes up: known already after a quick open, else asked of the loaded index. Call once, before any commit. */
  async activeState(): Promise<ActiveState> {
    const quick = this.activeAtOpen;
    this.activeAtOpen = undefined;
    return quick ?? activeStateFromQueries(this.index);
  }

  get storage(): StorageState {
    return this.journal?.storage ?? { state: 'ok' };
  }

  get readOnly(): boolean {
    return this.journal === undefined;
  }

  /**
   * Makes records durable, hands them to the index, then resolves with the seq of the first
   * record (the others follow it one by one; events carry theirs): nobody learns of a change
   * before it is on disk (a full disk makes it wait), and no query answers without it after.
   */
  async commit(records: StoreRecord[]): Promise<number> {
    if (!this.journal) throw new Error('state store is read-only');
    // Nothing is acknowledged earlier for it: a worker far behind slows the writes down instead.
    const behind = this.index.whenTakenIn();
    if (behind) await behind;
    const firstSeq = await this.journal.append(records);
    if (this.unsnapshotted >= this.snapshotThreshold && !this.snapshotting) {
      // A failed fold or clean-up loses nothing (the journal and the older generation stay); the next one tries again.
      this.snapshot().catch((error) => this.logger.error(`snapshot failed (the journal is kept, nothing is lost): ${errorMessage(error)}`));
    }
    return firstSeq;
  }

  /** Has the index worker write a snapshot of everything durable so far, then drops what two generations no longer need. One at a time. */
  snapshot(): Promise<void> {
    const previous = this.snapshotting ?? Promise.resolve();
    const next = previous.then(() => this.snapshotNow());
    this.snapshotting = next
      .catch(() => {})
      .finally(() => {
        if (this.snapshotting === guarded) this.snapshotting = undefined;
      });
    const guarded = this.snapshotting;
    return next;
  }

  private async snapshotNow(): Promise<void> {
    await this.loaded;
    if (!this.journal || this.closed) return;
    const closed = await this.journal.rotate();
    const segments = listSegments(journalDir(this.stateDir));
    const closedUpTo = segments[segments.length - 1]!.firstSeq - 1;
    const newest = this.generations[0];
    if (closed.length === 0 || (newest && closedUpTo <= newest.lastSeq)) return; // the newest snapshot holds them all
    this.logger.debug(`snapshot: folding ${closed.length} journal segments`);
    // The worker holds every batch posted before the rotation (and perhaps a few after): all durable.
    let written: Written;
    try {
      written = await this.index.snapshot(this.stateDir);
    } catch (error) {
      this.logger.error(`snapshot failed (the journal is kept, nothing is lost): ${errorMessage(error)}`);
      return;
    }
    this.logger.debug(`snapshot: ${written.bytes} bytes up to seq ${written.snapshot.lastSeq} in ${written.ms} ms`);
    this.generations = [written.snapshot, ...this.generations.filter((s) => s.path !== written.snapshot.path)];
    this.inherited = 0;
    crashPoint('snapshot.renamed');
    await this.dropOldGenerations();
  }

  /**
   * Keeps the newest two snapshots and every segment with a record above the older of
   * them, so a newest snapshot found damaged later falls back to the previous one plus
   * the journal. Removes the rest.
   */
  private async dropOldGenerations(): Promise<void> {
    const [, previous, ...older] = this.generations;
    this.generations = this.generations.slice(0, 2);
    for (const snapshot of older) await removeSnapshot(snapshot);
    if (!previous) return;
    const segments = listSegments(journalDir(this.stateDir));
    await dropSegments(
      this.stateDir,
      segments.filter((_, i) => i < segments.length - 1 && segments[i + 1]!.firstSeq - 1 <= previous.lastSeq),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // The next owner (a reloaded window, the next CLI command) opens from a snapshot instead of
    // applying a long journal tail first: sql.js takes ~50 µs a record, so 4 MiB costs a second.
    if (this.journal && this.journal.storage.state === 'ok' && this.unsnapshotted >= CLOSE_FOLD_BYTES) {
      await this.snapshot().catch((error) => this.logger.warn(`no snapshot on close (the journal is kept, nothing is lost): ${errorMessage(error)}`));
    }
    await this.snapshotting;
    this.closed = true;
    await this.journal?.close();
    await this.index.close();
    this.storageChanged.dispose();
    this.lock?.release();
  }
}

/** Journal bytes left unsnapshotted on close above which the owner folds them first. */
const CLOSE_FOLD_BYTES = 256 * 1024;

/** Bytes of the journal segments holding records above `snapshotSeq` (each segment is named by its first seq). */
function unsnapshottedBytes(stateDir: string, snapshotSeq: number): number {
  const segments = listSegments(journalDir(stateDir));
  let bytes = 0;
  for (const [i, segment] of segments.entries()) {
    const next = segments[i + 1];
    if (next && next.firstSeq - 1 <= snapshotSeq) continue; // wholly in the snapshot
    bytes += fs.statSync(segment.path, { throwIfNoEntry: false })?.size ?? 0;
  }
  return bytes;
}

export function journalDir(stateDir: string): string {
  return path.join(stateDir, 'journal');
}

function indexOptions(options: StoreOptions, logger: Logger): StateIndexOptions {
  return { logger, ...options.index, ...(options.indexWorker ? { script: options.indexWorker } : {}) };
}

async function dropSegments(stateDir: string, segments: JournalSegment[]): Promise<void> {
  for (const [i, segment] of segments.entries()) {
    await fs.promises.rm(segment.path, { force: true });
    if (i === 0) crashPoint('segments.dropping');
  }
  await fsyncDirAsync(journalDir(stateDir));
}

/** Temp files of writes a dead owner never finished: snapshots, checksums, rewritten segments. */
function removeStaleTemps(stateDir: string): void {
  for (const dir of [stateDir, journalDir(stateDir)]) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) if (name.includes('.tmp-')) fs.rmSync(path.join(dir, name), { force: true });
  }
}
