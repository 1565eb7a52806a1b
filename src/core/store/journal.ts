import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../util/logger.ts';
import { crashPoint } from '../util/crash-points.ts';
import { fsyncDir, fsyncDirAsync } from './fs-durable.ts';
import { encodeRecord, JOURNAL_VERSION, readSegmentHeader, SEGMENT_HEADER } from './journal-format.ts';
import type { SequencedRecord, StoreRecord } from './store-records.ts';
import { isStorageFull, storageErrorText } from './storage-full.ts';
import type { StorageState } from './storage-full.ts';

/** A journal file; its name is the sequence number of its first record. */
export interface JournalSegment {
  path: string;
  firstSeq: number;
}

const SEGMENT_RE = /^(\d{16})\.journal$/;

export function segmentPath(dir: string, firstSeq: number): string {
  return path.join(dir, `${String(firstSeq).padStart(16, '0')}.journal`);
}

export function listSegments(dir: string): JournalSegment[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => SEGMENT_RE.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ path: path.join(dir, m[0]), firstSeq: Number(m[1]) }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

interface Pending {
  frames: Buffer[];
  entries: SequencedRecord[];
  /** One per append, with how many of the entries are its own. */
  waiters: { resolve: () => void; reject: (error: Error) => void; count: number }[];
}

/**
 * Appends resumed by one write + fsync at most. Everything a batch's appenders do next
 * runs in the turn that resumes them, so an unbounded batch under heavy load would be
 * one long event-loop stall; the rest goes in the next write, right after.
 */
const MAX_APPENDS_PER_WRITE = 64;

/** The writes the journal makes to its open segment; tests pass one that fails like a full disk. */
export interface JournalIo {
  write(fd: number, data: Buffer): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /**
   * Segments are opened with O_DSYNC: each write returns once its data (and the metadata needed
   * to read it back) is on disk, as write + fdatasync would, so the journal skips `fdatasync`.
   * One trip through libuv's thread pool per group commit instead of two (see docs/benchmarks.md,
   * launch p99). Linux only (see `O_DSYNC` below).
   */
  readonly dsync?: boolean;
}

export interface JournalOptions {
  /** Told when the journal pauses on a full disk and when it writes again. */
  onStorage?: (state: StorageState) => void;
  io?: JournalIo;
  /** Wait before the first retry while paused, doubled up to `max` (default 250 ms → 5 s). */
  retryMs?: { first: number; max: number };
}

/**
 * Append-only journal with group commit: records appended while a write+fsync is
 * in flight are written together by the next one, so throughput grows with load
 * while each caller still waits for its own records to be durable.
 *
 * A full disk (ENOSPC, EDQUOT, EIO) pauses it: the segment is cut back to its last
 * durable record, the batch stays pending with its callers waiting, and the whole batch
 * is written and fsynced again after a backoff until it succeeds. Any other write
 * error breaks the journal for good.
 */
export class JournalWriter {
  private fd: number;
  private segmentFirstSeq: number;
  /** End of the last durable record in the open segment. */
  private offset: number;
  private nextSeq: number;
  private pending: Pending = { frames: [], entries: [], waiters: [] };
  private flushing = false;
  private scheduled = false;
  private rotateWaiters: ((closed: JournalSegment[]) => void)[] = [];
  private broken: Error | undefined;
  private idleWaiters: (() => void)[] = [];
  private bytesSinceRotate = 0;
  private readonly io: JournalIo;
  /** A write or fsync failed: bytes past `offset` are not to be trusted and are cut off before the next write. */
  private torn = false;
  private paused: Extract<StorageState, { state: 'paused' }> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private closed = false;

  /**
   * @param onDurable called with each batch (its records and the frames written) once it is
   * on disk, before any of its appenders is resumed: the store hands it to its index there.
   */
  constructor(
    private readonly dir: string,
    lastSeq: number,
    private readonly onDurable: (entries: SequencedRecord[], frames: Buffer) => void,
    private readonly options: JournalOptions = {},
  ) {
    this.io = options.io ?? fileIo;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.nextSeq = lastSeq + 1;
    const segments = listSegments(dir);
    const last = segments[segments.length - 1];
    if (last && (last.firstSeq === this.nextSeq || isCurrentFormat(last.path))) {
      // Keep appending to the newest segment (already cut back to its last whole record).
      this.segmentFirstSeq = last.firstSeq;
      this.fd = fs.openSync(last.path, appendFlags(this.io));
      this.offset = fs.fstatSync(this.fd).size;
    } else {
      // None yet, or the newest is of an older format: this version's records start a segment of their own.
      this.segmentFirstSeq = this.nextSeq;
      this.fd = fs.openSync(segmentPath(dir, this.nextSeq), appendFlags(this.io), 0o600);
      this.offset = 0;
      fsyncDir(dir);
    }
  }

  /** Bytes written since the last rotation; the store snapshots when this grows. */
  get size(): number {
    return this.bytesSinceRotate;
  }

  get storage(): StorageState {
    return this.paused ?? { state: 'ok' };
  }

  /**
   * Appends records; resolves once they (and everything before them) are durable, which waits
   * out a full disk, with the seq of the first of them (the others follow it one by one).
   */
  append(records: StoreRecord[]): Promise<number> {
    if (this.broken) return Promise.reject(this.broken);
    const firstSeq = this.nextSeq;
    return new Promise<void>((resolve, reject) => {
      for (const record of records) {
        const entry = { seq: this.nextSeq++, record };
        this.pending.entries.push(entry);
        this.pending.frames.push(encodeRecord(entry));
      }
      this.pending.waiters.push({ resolve, reject, count: records.length });
      this.schedule();
    }).then(() => firstSeq);
  }

  /**
   * Starts a new segment before the next batch; resolves with the segments closed by it.
   * None once broken or while paused: a snapshot would not fit on a full disk either.
   */
  rotate(): Promise<JournalSegment[]> {
    if (this.broken || this.paused) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.rotateWaiters.push(resolve);
      this.schedule();
    });
  }

  /** Resolves when nothing is pending or in flight, or when what is pending waits for disk space. */
  idle(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Writes what is pending and closes. Paused on a full disk, it tries once more; what
   * still cannot be written was never acknowledged, so its callers are told and it is dropped.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) this.retryNow();
    await this.idle();
    if (this.hasWork && !this.broken) {
      clearTimeout(this.retryTimer);
      const count = this.pending.entries.length;
      this.fail(new Error(`journal closed while storage is full (${this.paused?.reason}): ${count} unacknowledged records were not saved`));
    }
    fs.closeSync(this.fd);
    this.broken ??= new Error('journal is closed');
  }

  private get hasWork(): boolean {
    return this.pending.waiters.length > 0 || this.rotateWaiters.length > 0;
  }

  private get settled(): boolean {
    return !this.flushing && !this.scheduled && (!this.hasWork || this.retryTimer !== undefined);
  }

  private schedule(): void {
    if (this.flushing || this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: everything appended in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (!this.broken && !this.retryTimer && this.hasWork) {
        try {
          if (this.torn) await this.cutBack();
          if (this.rotateWaiters.length > 0) await this.rotateNow();
          if (this.pending.waiters.length > 0) await this.writeBatch();
        } catch (error) {
          if (isStorageFull(error)) this.pause(error);
          else this.fail(new Error(`journal write failed: ${errorMessage(error)}; restart to recover`));
        }
      }
    } finally {
      this.flushing = false;
      if (this.hasWork && !this.broken) this.schedule();
      if (this.settled) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Runs inside flush, so no batch is written meanwhile; directory work is async to keep the event loop free. */
  private takeBatch(): Pending {
    const all = this.pending;
    if (all.waiters.length <= MAX_APPENDS_PER_WRITE) {
      this.pending = { frames: [], entries: [], waiters: [] };
      return all;
    }
    const waiters = all.waiters.splice(0, MAX_APPENDS_PER_WRITE);
    const count = waiters.reduce((n, w) => n + w.count, 0);
    return { frames: all.frames.splice(0, count), entries: all.entries.splice(0, count), waiters };
  }

  private async writeBatch(): Promise<void> {
    const batch = this.takeBatch();
    // A segment's first write carries its header: a crash cannot leave a header without the records it announces.
    const headed = this.offset === 0;
    const frames = headed ? [SEGMENT_HEADER, ...batch.frames] : batch.frames;
    const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    try {
      await this.io.write(this.fd, data);
      if (!this.io.dsync) await this.io.fdatasync(this.fd);
    } catch (error) {
      // Back at the head of the queue, its callers still waiting: a retry writes all of it again.
      this.pending = {
        frames: batch.frames.concat(this.pending.frames),
        entries: batch.entries.concat(this.pending.entries),
        waiters: batch.waiters.concat(this.pending.waiters),
      };
      this.torn = true;
      // At once, so a fragment does not hold on to space a full disk needs; if that fails too, before the next write.
      await this.cutBack().catch(() => {});
      throw error;
    }
    this.offset += data.length;
    this.bytesSinceRotate += data.length;
    // The index is handed the frames alone: the header belongs to the segment file, not to the batch.
    this.onDurable(batch.entries, headed ? data.subarray(SEGMENT_HEADER.length) : data);
    this.resumed();
    for (const waiter of batch.waiters) waiter.resolve();
  }

  /**
   * After a failed write or fsync, the bytes past the last durable record are cut off
   * rather than trusted: after a failed fsync the page cache may hold data the disk never got.
   */
  private async cutBack(): Promise<void> {
    await this.io.ftruncate(this.fd, this.offset);
    this.torn = false;
  }

  private async rotateNow(): Promise<void> {
    if (this.offset > 0) {
      // Records waiting in `pending` already carry their seqs: the new segment is named after the first of them.
      const firstSeq = this.pending.entries[0]?.seq ?? this.nextSeq;
      const fd = await openAppend(segmentPath(this.dir, firstSeq), appendFlags(this.io));
      try {
        await fsyncDirAsync(this.dir);
      } catch (error) {
        fs.closeSync(fd); // opened again (same name) by the retry
        throw error;
      }
      crashPoint('journal.rotated');
      fs.closeSync(this.fd);
      this.fd = fd;
      this.segmentFirstSeq = firstSeq;
      this.offset = 0;
    }
    this.bytesSinceRotate = 0;
    this.resumed();
    const closed = listSegments(this.dir).filter((s) => s.firstSeq < this.segmentFirstSeq);
    for (const resolve of this.rotateWaiters.splice(0)) resolve(closed);
  }

  /** The disk is full: keep everything pending and try again after a backoff. */
  private pause(error: unknown): void {
    const { first, max } = this.options.retryMs ?? { first: 250, max: 5000 };
    this.retryDelay = this.paused ? Math.min(this.retryDelay * 2, max) : first;
    this.retryTimer = setTimeout(() => this.retryNow(), this.retryDelay);
    for (const resolve of this.rotateWaiters.splice(0)) resolve([]);
    if (this.paused) return;
    this.paused = { state: 'paused', reason: `${storageErrorText(error)} (journal in ${this.dir})`, since: Date.now() };
    this.options.onStorage?.(this.paused);
  }

  private retryNow(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.schedule();
  }

  private resumed(): void {
    if (!this.paused) return;
    this.paused = undefined;
    this.options.onStorage?.({ state: 'ok' });
  }

  /** Any other write error (or a close on a disk still full): cut back to the last durable record, reject what is pending, refuse further appends. */
  private fail(error: Error): void {
    try {
      fs.ftruncateSync(this.fd, this.offset);
    } catch {
      // the journal is marked broken below either way; startup replay drops a torn tail
    }
    this.broken = error;
    for (const waiter of this.pending.waiters.splice(0)) waiter.reject(error);
    this.pending = { frames: [], entries: [], waiters: [] };
    for (const resolve of this.rotateWaiters.splice(0)) resolve([]);
  }
}

/** Empty, or starting with this version's header: a segment this writer may append to. */
function isCurrentFormat(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(SEGMENT_HEADER.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n === 0) return true;
    const header = readSegmentHeader(head.subarray(0, n));
    return header !== undefined && header !== 'torn' && header.version === JOURNAL_VERSION;
  } finally {
    fs.closeSync(fd);
  }
}

/** A raw fd (not a FileHandle, which would close itself when collected). */
function openAppend(file: string, flags: string | number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, 0o600, (error, fd) => (error ? reject(error) : resolve(fd))));
}

/**
 * O_DSYNC on Linux only: there a write through it is as durable as write + fdatasync. macOS has
 * the flag, but libuv's fdatasync there is F_FULLFSYNC (the drive's cache flushed too), which
 * O_DSYNC is not; Windows has no such flag. Both keep write + fdatasync.
 */
const O_DSYNC: number | undefined = process.platform === 'linux' ? fs.constants.O_DSYNC : undefined;

/** How a segment is opened: 'a', with O_DSYNC added when the io writes through it. */
function appendFlags(io: JournalIo): string | number {
  if (!io.dsync) return 'a';
  const { O_WRONLY, O_CREAT, O_APPEND } = fs.constants;
  return O_WRONLY | O_CREAT | O_APPEND | O_DSYNC!;
}

const fileIo: JournalIo = {
  write: (fd, data) =>
    new Promise((resolve, reject) => {
      let written = 0;
      const next = () =>
        fs.write(fd, data, written, data.length - written, null, (error, n) => {
          if (error) return reject(error);
          written += n;
          if (written < data.length) next();
          else resolve();
        });
      next();
    }),
  fdatasync: (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
  ftruncate: (fd, length) => new Promise((resolve, reject) => fs.ftruncate(fd, length, (error) => (error ? reject(error) : resolve()))),
  // O8_JOURNAL_DSYNC=0 keeps write + fdatasync, to measure one against the other (`npm run bench:launch`).
  dsync: O_DSYNC !== undefined && process.env.O8_JOURNAL_DSYNC !== '0',
};
