import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/logger.ts';
import { Emitter } from '../util/emitter.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { fsyncDirAsync } from './fs-durable.ts';
import { JournalWriter, replayJournal } from './journal.ts';
import type { JournalSegment } from './journal.ts';
import { SNAPSHOT_FILE } from './snapshot-protocol.ts';
import type { SnapshotReply, SnapshotRequest } from './snapshot-protocol.ts';
import { StateDb } from './state-db.ts';
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
 * Durable state of one folder: `snapshot.sqlite` (a sql.js export, written by a
 * worker thread) plus `journal/*.journal` (records since the snapshot). One process
 * owns a folder and writes; any number may read it.
 */
export class StateStore {
  private journal: JournalWriter | undefined;
  private worker: Worker | undefined;
  private snapshotting: Promise<void> | undefined;
  private closed = false;
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
      const db = await loadState(stateDir, true, logger);
      const store = new StateStore(stateDir, db, logger, options.snapshotThreshold ?? 4 * 1024 * 1024, options.snapshotWorker, lock);
      store.journal = new JournalWriter(journalDir(stateDir), db.lastSeq, (entries) => db.defer(entries), {
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
        return new StateStore(stateDir, await loadState(stateDir, false, logger), logger, 0, undefined);
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

  /** Makes records durable, applies them, then resolves: nobody learns of a change before it is on disk (a full disk makes it wait). */
  async commit(records: StoreRecord[]): Promise<void> {
    if (!this.journal) throw new Error('state store is read-only');
    await this.journal.append(records);
    if (this.journal.size >= this.snapshotThreshold && !this.snapshotting) void this.snapshot();
  }

  /** Folds the journal so far into a new snapshot (off the main thread) and drops the folded segments. One at a time. */
  snapshot(): Promise<void> {
    const previous = this.snapshotting ?? Promise.resolve();
    const next = previous.then(() => this.snapshotNow());
    this.snapshotting = next.finally(() => {
      if (this.snapshotting === guarded) this.snapshotting = undefined;
    });
    const guarded = this.snapshotting;
    return next;
  }

  private async snapshotNow(): Promise<void> {
    if (!this.journal || this.closed) return;
    const segments = await this.journal.rotate();
    if (segments.length === 0) return;
    this.logger.debug(`snapshot: folding ${segments.length} journal segments`);
    const reply = await this.askWorker({ type: 'snapshot', snapshotPath: path.join(this.stateDir, SNAPSHOT_FILE), segments: segments.map((s) => s.path) });
    if (reply.type === 'error') {
      this.logger.error(`snapshot failed (the journal is kept, nothing is lost): ${reply.message}`);
      return;
    }
    this.logger.debug(`snapshot: ${reply.bytes} bytes up to seq ${reply.lastSeq} in ${reply.ms} ms`);
    await dropSegments(this.stateDir, segments);
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

async function loadState(stateDir: string, repair: boolean, logger: Logger): Promise<StateDb> {
  const snapshotPath = path.join(stateDir, SNAPSHOT_FILE);
  const snapshot = fs.existsSync(snapshotPath) ? fs.readFileSync(snapshotPath) : undefined;
  const db = await StateDb.open(snapshot);
  try {
    const { entries } = replayJournal(journalDir(stateDir), { afterSeq: db.lastSeq, repair, logger });
    if (entries.length) db.apply(entries);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

async function dropSegments(stateDir: string, segments: JournalSegment[]): Promise<void> {
  for (const segment of segments) await fs.promises.rm(segment.path, { force: true });
  await fsyncDirAsync(journalDir(stateDir));
}

function removeStaleTemps(stateDir: string): void {
  if (!fs.existsSync(stateDir)) return;
  for (const name of fs.readdirSync(stateDir)) if (name.includes('.tmp-')) fs.rmSync(path.join(stateDir, name), { force: true });
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
