import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../util/logger.ts';
import { crashPoint } from '../util/crash-points.ts';
import { fsyncDir, fsyncDirAsync } from './fs-durable.ts';
import { encodeRecord } from './journal-format.ts';
import type { SequencedRecord, StoreRecord } from './store-records.ts';

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

/**
 * Append-only journal with group commit: records appended while a write+fsync is
 * in flight are written together by the next one, so throughput grows with load
 * while each caller still waits for its own records to be durable.
 */
export class JournalWriter {
  private fd: number;
  private segmentFirstSeq: number;
  private offset: number;
  private nextSeq: number;
  private pending: Pending = { frames: [], entries: [], waiters: [] };
  private flushing = false;
  private scheduled = false;
  private rotateWaiters: ((closed: JournalSegment[]) => void)[] = [];
  private broken: Error | undefined;
  private idleWaiters: (() => void)[] = [];
  private bytesSinceRotate = 0;

  /**
   * @param onDurable called with each batch once it is on disk, before any of its
   * appenders is resumed: the store applies the batch to its database there.
   */
  constructor(
    private readonly dir: string,
    lastSeq: number,
    private readonly onDurable: (entries: SequencedRecord[]) => void,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.nextSeq = lastSeq + 1;
    const segments = listSegments(dir);
    const last = segments[segments.length - 1];
    if (last) {
      // Keep appending to the newest segment (already cut back to its last whole record).
      this.segmentFirstSeq = last.firstSeq;
      this.fd = fs.openSync(last.path, 'a');
      this.offset = fs.fstatSync(this.fd).size;
    } else {
      this.segmentFirstSeq = this.nextSeq;
      this.fd = fs.openSync(segmentPath(dir, this.nextSeq), 'a', 0o600);
      this.offset = 0;
      fsyncDir(dir);
    }
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Bytes written since the last rotation; the store snapshots when this grows. */
  get size(): number {
    return this.bytesSinceRotate;
  }

  /** Appends records; resolves once they (and everything before them) are durable. */
  append(records: StoreRecord[]): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      for (const record of records) {
        const entry = { seq: this.nextSeq++, record };
        this.pending.entries.push(entry);
        this.pending.frames.push(encodeRecord(entry));
      }
      this.pending.waiters.push({ resolve, reject, count: records.length });
      this.schedule();
    });
  }

  /** Starts a new segment before the next batch; resolves with the segments closed by it. */
  rotate(): Promise<JournalSegment[]> {
    return new Promise((resolve) => {
      this.rotateWaiters.push(resolve);
      this.schedule();
    });
  }

  /** Resolves when nothing is pending or in flight. */
  idle(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.pending.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.idle();
    fs.closeSync(this.fd);
    this.broken ??= new Error('journal is closed');
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
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
      while (!this.broken && (this.pending.waiters.length > 0 || this.rotateWaiters.length > 0)) {
        if (this.rotateWaiters.length > 0) await this.rotateNow();
        if (this.pending.waiters.length === 0) continue;
        const batch = this.takeBatch();
        const data = batch.frames.length === 1 ? batch.frames[0]! : Buffer.concat(batch.frames);
        try {
          await write(this.fd, data);
          await fdatasync(this.fd);
        } catch (error) {
          this.fail(batch, error);
          break;
        }
        this.offset += data.length;
        this.bytesSinceRotate += data.length;
        this.onDurable(batch.entries);
        for (const waiter of batch.waiters) waiter.resolve();
      }
    } finally {
      this.flushing = false;
      if (this.pending.waiters.length === 0 && this.rotateWaiters.length === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      } else {
        this.schedule();
      }
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

  private async rotateNow(): Promise<void> {
    if (this.offset > 0) {
      // Records waiting in `pending` already carry their seqs: the new segment is named after the first of them.
      const firstSeq = this.pending.entries[0]?.seq ?? this.nextSeq;
      const fd = await openAppend(segmentPath(this.dir, firstSeq));
      await fsyncDirAsync(this.dir);
      crashPoint('journal.rotated');
      fs.closeSync(this.fd);
      this.fd = fd;
      this.segmentFirstSeq = firstSeq;
      this.offset = 0;
    }
    this.bytesSinceRotate = 0;
    const closed = listSegments(this.dir).filter((s) => s.firstSeq < this.segmentFirstSeq);
    for (const resolve of this.rotateWaiters.splice(0)) resolve(closed);
  }

  /** A failed write or fsync: cut back to the last durable record and refuse further appends (fsync errors are not retryable). */
  private fail(batch: Pending, error: unknown): void {
    try {
      fs.ftruncateSync(this.fd, this.offset);
    } catch {
      // the journal is marked broken below either way; startup replay drops a torn tail
    }
    this.broken = new Error(`journal write failed: ${errorMessage(error)}; restart to recover`);
    for (const waiter of batch.waiters) waiter.reject(this.broken);
    for (const waiter of this.pending.waiters.splice(0)) waiter.reject(this.broken);
  }
}

/** A raw fd (not a FileHandle, which would close itself when collected). */
function openAppend(file: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, 'a', 0o600, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function write(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let written = 0;
    const next = () =>
      fs.write(fd, data, written, data.length - written, null, (error, n) => {
        if (error) return reject(error);
        written += n;
        if (written < data.length) next();
        else resolve();
      });
    next();
  });
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
