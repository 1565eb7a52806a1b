import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/logger.ts';
import { Emitter } from '../util/emitter.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { fsyncDirAsync } from './fs-durable.ts';
import { crashPoint } from '../util/crash-points.ts';
import { JournalWriter, listSegments } from './journal.ts';
import { replayJournal } from './journal-replay.ts';
import type { JournalSegment } from './journal.ts';
import { listSnapshots, readSnapshot, removeIncompleteSnapshots, removeSnapshot, setSnapshotAside, SnapshotDamagedError } from './snapshot-files.ts';
import type { SnapshotFile } from './snapshot-files.ts';
import type { SnapshotReply, SnapshotRequest } from './snapshot-protocol.ts';
import { StateDb } from './state-db.ts';
import { writeStateGitIgnore } from './state-gitignore.ts';
import { acquireLock } from './state-lock.ts';
import type { LockInfo } from './state-lock.ts';
import type { StorageState } from './storage-full.ts';
import type { StoreRecord } from './store-records.ts';

export interface StoreOptions {
  logger?: Logger;
  /** Owner label written into the lock file (named in errors seen by other processes). */
  command?: string;
  /** Journal bytes after which a snapshot is taken (default 4 MiB). */
  snapshotThreshold?: number;
  /**
   * The built snapshot worker (`dist/snapshot-worker.cjs`). Default: the one beside this module
   * when bundled, else the TypeScript source through tsx, which is much slower to start.
   */
  snapshotWorker?: string;
}

/**
 * Durable state of one folder: checksummed snapshots (sql.js exports written by a worker
 * thread; see snapshot-files.ts) plus `journal/*.journal` (the records, kept back to the
 * previous snapshot). One process owns a folder and writes; any number may read it.
 */
export class StateStore {
  private journal: JournalWriter | undefined;
  private worker: Worker | undefined;
  private snapshotting: Promise<void> | undefined;
  private closed = false;
  /** Snapshots on disk that the owner keeps, newest first: the newest two, once it has written one. */
  private generations: SnapshotFile[] = [];
  private readonly storageChanged = new Emitter<StorageState>((error) => this.logger.error('storage listener failed', error));
  /** The journal paused on a full disk, or wrote again: commits wait (they are not rejected) while paused. */
  readonly onStorage = this.storageChanged.event;

  private constructor(
    readonly stateDir: string,
    readonly db: StateDb,
    private readonly logger: Logger,
    private readonly snapshotThreshold: number,
    private readonly workerScript: string | undefined,
    /** Set in owner mode: the lock we hold and the dead owner we took over from, if any. */
    readonly lock?: { info: LockInfo; previous?: LockInfo; release(): void },
  ) {}

  /** Opens as the one writer: takes the lock (or throws StateOwnedError), cuts a torn journal tail, resumes appending. */
  static async openOwner(stateDir: string, options: StoreOptions = {}): Promise<StateStore> {
    const logger = options.logger ?? silentLogger;
    const lock = acquireLock(stateDir, options.command ?? 'orchestr8');
    try {
      removeStaleTemps(stateDir);
      removeIncompleteSnapshots(stateDir);
      await writeStateGitIgnore(stateDir).catch((error) => logger.warn(`could not write ${stateDir}/.gitignore: ${errorMessage(error)}`));
      const { db, lastSeq, snapshots } = await loadState(stateDir, true, logger);
      const store = new StateStore(stateDir, db, logger, options.snapshotThreshold ?? 4 * 1024 * 1024, options.snapshotWorker, lock);
      store.generations = snapshots;
      store.journal = new JournalWriter(journalDir(stateDir), lastSeq, (entries) => db.defer(entries), {
        onStorage: (state) => store.storageChanged.fire(state),
      });
      return store;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Opens a read-only view as of now: loads the snapshot, replays the journal, writes nothing. */
  static async openReader(stateDir: string, options: StoreOptions = {}): Promise<StateStore> {
    const logger = options.logger ?? silentLogger;
    // The owner may fold segments into a new snapshot while we read; a gap means "read again".
    for (let attempt = 0; ; attempt++) {
      try {
        return new StateStore(stateDir, (await loadState(stateDir, false, logger)).db, logger, 0, undefined);
      } catch (error) {
        if (attempt >= 4 || !/missing/.test(errorMessage(error))) throw error;
      }
    }
  }

  get storage(): StorageState {
    return this.journal?.storage ?? { state: 'ok' };
  }

  get readOnly(): boolean {
    return this.journal === undefined;
  }

  /**
   * Makes records durable, applies them, then resolves with the seq of the first record (the
   * others follow it one by one; events carry theirs): nobody learns of a change before it is
   * on disk (a full disk makes it wait).
   */
  async commit(records: StoreRecord[]): Promise<number> {
    if (!this.journal) throw new Error('state store is read-only');
    const firstSeq = await this.journal.append(records);
    if (this.journal.size >= this.snapshotThreshold && !this.snapshotting) {
      // A failed fold or clean-up loses nothing (the journal and the older generation stay); the next one tries again.
      this.snapshot().catch((error) => this.logger.error(`snapshot failed (the journal is kept, nothing is lost): ${errorMessage(error)}`));
    }
    return firstSeq;
  }

  /** Folds the journal so far into a new snapshot (off the main thread), then drops what two generations no longer need. One at a time. */
  snapshot(): Promise<void> {
    const previous = this.snapshotting ?? Promise.resolve();
    const next = previous.then(() => this.snapshotNow());
    this.snapshotting = next.catch(() => {}).finally(() => {
      if (this.snapshotting === guarded) this.snapshotting = undefined;
    });
    const guarded = this.snapshotting;
    return next;
  }

  private async snapshotNow(): Promise<void> {
    if (!this.journal || this.closed) return;
    const closed = await this.journal.rotate();
    const segments = listSegments(journalDir(this.stateDir));
    const closedUpTo = segments[segments.length - 1]!.firstSeq - 1;
    const newest = this.generations[0];
    if (closed.length === 0 || (newest && closedUpTo <= newest.lastSeq)) return; // the newest snapshot holds them all
    this.logger.debug(`snapshot: folding ${closed.length} journal segments`);
    const reply = await this.askWorker({ type: 'snapshot', stateDir: this.stateDir, base: newest, segments: closed });
    if (reply.type === 'error') {
      this.logger.error(`snapshot failed (the journal is kept, nothing is lost): ${reply.message}`);
      return;
    }
    this.logger.debug(`snapshot: ${reply.bytes} bytes up to seq ${reply.snapshot.lastSeq} in ${reply.ms} ms`);
    this.generations = [reply.snapshot, ...this.generations.filter((s) => s.path !== reply.snapshot.path)];
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
    await dropSegments(this.stateDir, segments.filter((_, i) => i < segments.length - 1 && segments[i + 1]!.firstSeq - 1 <= previous.lastSeq));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.snapshotting;
    this.closed = true;
    await this.journal?.close();
    await this.worker?.terminate();
    this.db.close();
    this.lock?.release();
  }

  private askWorker(request: SnapshotRequest): Promise<SnapshotReply> {
    const worker = (this.worker ??= startWorker(this.workerScript));
    return new Promise((resolve) => {
      const onMessage = (reply: SnapshotReply) => {
        worker.off('error', onError);
        worker.unref();
        resolve(reply);
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        this.worker = undefined;
        resolve({ type: 'error', message: error.message });
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.ref(); // keep the process alive until the snapshot is written
      worker.postMessage(request);
    });
  }
}

export function journalDir(stateDir: string): string {
  return path.join(stateDir, 'journal');
}

/** The state as of now, as loadState found it. */
interface LoadedState {
  db: StateDb;
  /** The highest seq in use: new records go above it. */
  lastSeq: number;
  /** The snapshot loaded (with the seq it holds) and the older ones still on disk, newest first. */
  snapshots: SnapshotFile[];
}

/** The newest snapshot that verifies (falling back one generation at a time) plus the journal after it. */
async function loadState(stateDir: string, repair: boolean, logger: Logger): Promise<LoadedState> {
  const candidates = listSnapshots(stateDir);
  let db: StateDb | undefined;
  let loaded = candidates.length;
  for (let i = 0; i < candidates.length && !db; i++) {
    db = await openSnapshot(candidates[i]!, candidates[i + 1], repair, logger);
    if (db) loaded = i;
  }
  db ??= await StateDb.open();
  try {
    const snapshots = candidates.slice(loaded).map((s, i) => (i === 0 ? { ...s, lastSeq: db.lastSeq } : s));
    const { entries, lastSeq } = replayJournal(journalDir(stateDir), { afterSeq: db.lastSeq, repair, logger });
    if (entries.length) db.apply(entries);
    return { db, lastSeq: Math.max(lastSeq, db.lastSeq), snapshots };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a snapshot; one that fails to verify is reported (and, by the owner, taken out of use for good). */
async function openSnapshot(snapshot: SnapshotFile, fallback: SnapshotFile | undefined, repair: boolean, logger: Logger): Promise<StateDb | undefined> {
  const name = path.basename(snapshot.path);
  try {
    return await StateDb.open(readSnapshot(snapshot));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed by the owner since listed: an old generation
    if (code !== undefined) throw error; // the disk failed, not the snapshot
    const why = error instanceof SnapshotDamagedError ? error.message : `snapshot ${name} cannot be opened (${errorMessage(error)})`;
    const aside = repair ? `; it is kept as ${setSnapshotAside(snapshot)} and never used again` : '';
    logger.error(`${why}: falling back to ${fallback ? path.basename(fallback.path) : 'an empty state'} and the journal${aside}`);
    return undefined;
  }
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

function startWorker(script?: string): Worker {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = script ?? path.join(here, 'snapshot-worker.cjs');
  const worker = fs.existsSync(bundled)
    ? new Worker(bundled)
    : // from source (tests, benchmarks): register tsx inside the worker, then load the TypeScript module
      new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./snapshot-worker.ts', import.meta.url).href)}); })`,
        { eval: true },
      );
  worker.unref();
  return worker;
}
