import fs from 'node:fs';
import path from 'node:path';
import type { Disposable } from '../util/disposable.ts';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage } from '../util/logger.ts';
import { listSegments } from './journal.ts';
import type { JournalSegment } from './journal.ts';
import { scanFrames } from './journal-format.ts';
import { lockPath } from './state-lock.ts';
import type { SequencedRecord } from './store-records.ts';

export interface JournalFollowerOptions {
  logger: Logger;
  /**
   * The fallback for a missed or unsupported file watch: every this many ms, a few `stat`
   * calls (journal folder, open segment, lock file), never a read unless something changed.
   */
  pollMs?: number;
}

/** Records after `afterSeq` that the follower needs are gone (folded into a snapshot and removed): only a reload has them. */
export interface FollowLost {
  afterSeq: number;
  /** The first seq the journal still holds, if any. */
  firstAvailable?: number;
}

/** Where the follower is in the segment it reads: the end of its last whole record. */
interface Position {
  path: string;
  firstSeq: number;
  ino: number;
  offset: number;
}

/**
 * Follows a journal that another process (the owner) appends to, from a seq the caller
 * already holds: each time the folder changes it reads only the new bytes of the newest
 * segment(s) and hands on whole, CRC-valid records in order. A torn or still-being-written
 * tail is left for the next read. It copes with rotation (a new segment), an owner that
 * rewrites a damaged segment or cuts a torn tail (re-read from the start, already-seen
 * records skipped), and a changed owner. When the records it needs were removed (folded
 * into a snapshot while it was not looking), it says so once through `onLost` and stops:
 * the caller reloads and follows again from the reloaded seq.
 */
export class JournalFollower implements Disposable {
  private readonly records = new Emitter<SequencedRecord[]>((error) => this.options.logger.error('journal listener failed', error));
  private readonly lost = new Emitter<FollowLost>((error) => this.options.logger.error('journal listener failed', error));
  private readonly ownerChanged = new Emitter<void>((error) => this.options.logger.error('owner listener failed', error));
  /** New records, in seq order, each batch contiguous with what came before (or past a gap the journal itself reports lost). */
  readonly onRecords = this.records.event;
  /** Following cannot go on (see FollowLost); fired once, then the follower is idle. */
  readonly onLost = this.lost.event;
  /** `owner.lock` was created, replaced or removed: the owner exited or another one took over. */
  readonly onOwnerChanged = this.ownerChanged.event;

  private readonly journalDir: string;
  private position: Position | undefined;
  private seq: number;
  private watchers: fs.FSWatcher[] = [];
  private journalWatched = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private scheduled = false;
  private stopped = false;
  /** What the fallback poll last saw: a change in any of these means "read". */
  private seen = { dirMtime: 0, segmentSize: -1, lock: '' };

  constructor(
    private readonly stateDir: string,
    afterSeq: number,
    private readonly options: JournalFollowerOptions,
  ) {
    this.journalDir = path.join(stateDir, 'journal');
    this.seq = afterSeq;
    this.seen.lock = this.lockStamp();
    this.watch();
    this.timer = setInterval(() => this.pollStats(), options.pollMs ?? 1000);
    this.timer.unref();
  }

  /** The last record handed on. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Reads whatever the journal has beyond `lastSeq` now (also done on every change the watch or poll sees). */
  catchUp(): void {
    if (this.stopped) return;
    try {
      this.readNew();
    } catch (error) {
      this.options.logger.warn(`journal follower: ${errorMessage(error)} (tries again on the next change)`);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // One read for a burst of watch events (a group commit can fire several).
    setImmediate(() => {
      this.scheduled = false;
      this.catchUp();
    });
  }

  private readNew(): void {
    const segments = listSegments(this.journalDir);
    if (segments.length === 0) return;
    // The segment holding lastSeq + 1: the last one starting at or before it.
    let i = -1;
    for (let k = 0; k < segments.length; k++) if (segments[k]!.firstSeq <= this.seq + 1) i = k;
    if (i < 0) {
      this.giveUp(segments[0]!.firstSeq);
      return;
    }
    for (let k = i; k < segments.length && !this.stopped; k++) {
      const segment = segments[k]!;
      const next = segments[k + 1];
      const outcome = this.readSegment(segment, next);
      if (outcome === 'gone') {
        // Removed since listed: folded by the owner. If nothing left holds our next record, reload.
        const left = listSegments(this.journalDir);
        if (left.some((s) => s.firstSeq <= this.seq + 1)) this.schedule();
        else this.giveUp(left[0]?.firstSeq);
        return;
      }
      if (outcome === 'partial') return; // the rest of this segment is still being written
      if (next && next.firstSeq > this.seq + 1) {
        // The owner's replay reports these (a damaged end it set aside); nothing here can bring them back.
        this.options.logger.warn(
          `journal follower: records ${this.seq + 1}–${next.firstSeq - 1} are missing (lost to damage at the end of ${path.basename(segment.path)})`,
        );
        this.seq = next.firstSeq - 1;
      }
    }
  }

  /** Reads a segment's new bytes; `partial` when it ends in an incomplete record (and is the newest). */
  private readSegment(segment: JournalSegment, next: JournalSegment | undefined): 'done' | 'partial' | 'gone' {
    let fd: number;
    try {
      fd = fs.openSync(segment.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw error;
    }
    try {
      const stat = fs.fstatSync(fd);
      const at = this.position;
      // Same file, not cut below what we read: go on from there. Otherwise (a new segment, or the owner
      // rewrote this one without damaged bytes) read it from the start and skip what we already have.
      const resume = at !== undefined && at.path === segment.path && at.ino === stat.ino && stat.size >= at.offset;
      const start = resume ? at.offset : 0;
      this.position = { path: segment.path, firstSeq: segment.firstSeq, ino: stat.ino, offset: start };
      this.seen.segmentSize = stat.size;
      if (stat.size === start) return next ? 'done' : 'partial';
      const buf = Buffer.allocUnsafe(stat.size - start);
      let read = 0;
      while (read < buf.length) {
        const n = fs.readSync(fd, buf, read, buf.length - read, start + read);
        if (n === 0) break;
        read += n;
      }
      const bytes = buf.subarray(0, read);
      const scan = scanFrames(bytes, resume ? this.seq + 1 : segment.firstSeq, next?.firstSeq);
      const fresh = scan.entries.filter((e) => e.seq > this.seq);
      this.position.offset = start + (scan.tail ? scan.tail.offset : bytes.length);
      if (fresh.length) {
        this.seq = fresh[fresh.length - 1]!.seq;
        this.records.fire(fresh);
      }
      if (!scan.tail) return 'done';
      if (!next) return 'partial';
      this.options.logger.warn(`journal follower: skipping an unreadable end of ${path.basename(segment.path)} (${scan.tail.problem})`);
      return 'done';
    } finally {
      fs.closeSync(fd);
    }
  }

  private giveUp(firstAvailable: number | undefined): void {
    const afterSeq = this.seq;
    this.stop();
    this.lost.fire({ afterSeq, ...(firstAvailable !== undefined ? { firstAvailable } : {}) });
  }

  /** Watches the journal folder (appends, new and removed segments) and the state folder (the lock, the journal folder appearing). */
  private watch(): void {
    this.watchers.push(
      ...watchIfPossible(this.stateDir, (name) => {
        if (name === 'owner.lock') this.checkOwner();
        else if (name === 'journal' && !this.journalWatched) this.watchJournal();
      }),
    );
    this.watchJournal();
  }

  private watchJournal(): void {
    const watcher = watchIfPossible(this.journalDir, () => this.schedule());
    if (watcher.length === 0) return;
    this.journalWatched = true;
    this.watchers.push(...watcher);
    this.schedule();
  }

  /** The slow fallback: a few stats; a read only when one of them changed. */
  private pollStats(): void {
    if (this.stopped) return;
    if (!this.journalWatched) this.watchJournal();
    this.checkOwner();
    const dirMtime = statOrUndefined(this.journalDir)?.mtimeMs ?? 0;
    const size = this.position ? (statOrUndefined(this.position.path)?.size ?? -1) : -1;
    if (dirMtime !== this.seen.dirMtime || size !== this.seen.segmentSize) {
      this.seen.dirMtime = dirMtime;
      this.catchUp();
    }
  }

  private checkOwner(): void {
    const stamp = this.lockStamp();
    if (stamp === this.seen.lock) return;
    this.seen.lock = stamp;
    this.ownerChanged.fire();
    // A new owner cuts a torn tail and appends from there: read what it wrote.
    this.schedule();
  }

  private lockStamp(): string {
    const stat = statOrUndefined(lockPath(this.stateDir));
    return stat ? `${stat.ino}:${stat.mtimeMs}` : '';
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }

  dispose(): void {
    this.stop();
    this.records.dispose();
    this.lost.dispose();
    this.ownerChanged.dispose();
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** A watch that never keeps the process alive; none where the platform or a missing folder refuses one (the poll covers it). */
function watchIfPossible(dir: string, onChange: (name: string | null) => void): fs.FSWatcher[] {
  try {
    const watcher = fs.watch(dir, { persistent: false }, (_event, name) => onChange(name === null ? null : String(name)));
    watcher.on('error', () => watcher.close());
    return [watcher];
  } catch {
    return [];
  }
}
