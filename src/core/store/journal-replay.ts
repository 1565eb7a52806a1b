import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger.ts';
import { fsyncDir } from './fs-durable.ts';
import { listSegments, segmentPath } from './journal.ts';
import { scanFrames } from './journal-format.ts';
import type { ScanResult } from './journal-format.ts';
import type { SequencedRecord } from './store-records.ts';

export interface ReplayOptions {
  /** Records up to and including this seq are already in the snapshot. */
  afterSeq: number;
  /** Owner mode: cut a torn tail off, set damaged bytes aside. Readers never write. */
  repair: boolean;
  logger: Logger;
  /**
   * Read only up to this seq, the journal's tail as the owner found it on opening (the index
   * worker's load behind a running owner): the owner already repaired it, and what lies beyond
   * is being appended right now, so it is neither read nor reported as torn. Needs `repair` off.
   */
  upTo?: number;
}

export interface ReplayResult {
  /** Records after `afterSeq`, in order. */
  entries: SequencedRecord[];
  /** The highest seq anywhere in the journal folder, set-aside copies included: the next record goes above it. */
  lastSeq: number;
}

/** A damaged segment's original bytes, kept for forensics: `<segment>.corrupt` (then `.corrupt.1`, …). */
const SET_ASIDE_RE = /^\d{16}\.journal\.corrupt(\.\d+)?$/;

/**
 * Reads every segment. Each segment is trusted to start where its name says: one wholly
 * inside the snapshot (kept for a fallback, or left behind by an owner that died before
 * removing it) is skipped. Records are missing only when a segment starts after a seq
 * above the snapshot that nothing holds.
 *
 * A bad frame costs only its own bytes: the scan resynchronises on the next valid
 * record. Bad bytes at the end of the newest segment are a torn write and are cut off;
 * anywhere else they are corruption: reported with file and offset, and in owner mode
 * the segment's original bytes are kept aside and the segment rewritten without them.
 */
export function replayJournal(dir: string, options: ReplayOptions): ReplayResult {
  const { logger } = options;
  const segments = listSegments(dir);
  const setAside = setAsideCopies(dir);
  const setAsideHighest = Math.max(0, ...setAside.values());
  const entries: SequencedRecord[] = [];
  let lastSeq = options.afterSeq;
  /** A damaged segment whose unreadable end explains a gap before the next one. */
  let lostIn: string | undefined;
  let previousName: string | undefined;
  const upTo = options.upTo ?? Infinity;
  for (let i = 0; i < segments.length && lastSeq < upTo; i++) {
    const segment = segments[i]!;
    const next = segments[i + 1];
    const name = path.basename(segment.path);
    if (segment.firstSeq > lastSeq + 1) {
      const missing = `${lastSeq + 1}–${segment.firstSeq - 1}`;
      if (lostIn) logger.error(`journal: records ${missing} were in the unreadable end of ${lostIn} and are lost`);
      else if (previousName && setAside.has(previousName))
        logger.warn(`journal: records ${missing} were lost to damage at the end of ${previousName} (its original is kept as *.corrupt)`);
      else if (segment.firstSeq - 1 <= setAsideHighest) logger.warn(`journal: records ${missing} are only in set-aside copies (*.corrupt) of damaged segments`);
      else throw new Error(`journal: segment ${name} starts at ${segment.firstSeq} but records after ${lastSeq} are missing`);
    }
    lostIn = undefined;
    previousName = name;
    // Wholly in the snapshot (kept for a fallback to the previous one): nothing to read.
    if (next && next.firstSeq - 1 <= options.afterSeq) continue;
    const buf = readIfPresent(segment.path);
    // Removed since it was listed: the owner folded it into a snapshot. A gap it leaves is caught above.
    if (!buf) continue;
    const scan = scanFrames(buf, segment.firstSeq, next?.firstSeq);
    let previous = segment.firstSeq - 1;
    for (const entry of scan.entries) {
      if (entry.seq > previous + 1 && entry.seq - 1 > options.afterSeq && scan.damaged.length === 0) {
        logger.warn(`journal: records ${Math.max(previous, options.afterSeq) + 1}–${entry.seq - 1} are missing from ${name} (lost to earlier damage)`);
      }
      previous = entry.seq;
      if (entry.seq > upTo) break;
      if (entry.seq > lastSeq) {
        entries.push(entry);
        lastSeq = entry.seq;
      }
    }
    if (lastSeq >= upTo) break; // the rest is the running owner's, appended since
    if (scan.damaged.length > 0 || (scan.tail && next)) {
      reportDamage(segment.path, buf, scan, options);
      if (scan.tail && next) lostIn = name;
    } else if (scan.tail) {
      const dropped = buf.length - scan.tail.offset;
      logger.warn(
        `journal: ${options.repair ? 'truncated' : 'ignoring'} a torn tail of ${dropped} bytes at offset ${scan.tail.offset} of ${name} (${scan.tail.problem})`,
      );
      if (options.repair) fs.truncateSync(segment.path, scan.tail.offset);
    }
  }
  if (setAsideHighest > lastSeq) {
    // Never reuse a seq that a set-aside copy holds: new records start in a segment of their own above it.
    if (options.repair) {
      fs.closeSync(fs.openSync(segmentPath(dir, setAsideHighest + 1), 'a', 0o600));
      fsyncDir(dir);
    }
    lastSeq = setAsideHighest;
  }
  return { entries, lastSeq };
}

function reportDamage(file: string, buf: Buffer, scan: ScanResult, options: ReplayOptions): void {
  const first = scan.damaged[0] ?? scan.tail!;
  const bad = scan.damaged.reduce((n, d) => n + d.length, 0) + (scan.tail ? buf.length - scan.tail.offset : 0);
  const where = scan.damaged.length + (scan.tail ? 1 : 0);
  let action = '';
  if (options.repair) {
    const copy = setAside(file, buf);
    const good: Buffer[] = [];
    let from = 0;
    for (const d of scan.damaged) {
      good.push(buf.subarray(from, d.offset));
      from = d.offset + d.length;
    }
    good.push(buf.subarray(from, scan.tail?.offset ?? buf.length));
    rewriteFile(file, Buffer.concat(good));
    action = `; its original bytes are kept as ${path.basename(copy)} and the segment rewritten without the bad ones`;
  }
  options.logger.error(
    `journal: ${path.basename(file)} is corrupt at offset ${first.offset} (${first.problem}): ${bad} unreadable bytes in ${where} place(s), ` +
      `the ${scan.entries.length} records around them kept${action}`,
  );
}

function setAside(file: string, data: Buffer): string {
  let copy = `${file}.corrupt`;
  for (let n = 1; fs.existsSync(copy); n++) copy = `${file}.corrupt.${n}`;
  fs.writeFileSync(copy, data, { mode: 0o600, flush: true });
  return copy;
}

function rewriteFile(file: string, data: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode: 0o600, flush: true });
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Segments with set-aside copies of damaged bytes (by segment name), with the highest seq in those copies. */
function setAsideCopies(dir: string): Map<string, number> {
  const copies = new Map<string, number>();
  if (!fs.existsSync(dir)) return copies;
  for (const name of fs.readdirSync(dir)) {
    if (!SET_ASIDE_RE.test(name)) continue;
    const segment = name.slice(0, name.indexOf('.corrupt'));
    const entries = scanFrames(readIfPresent(path.join(dir, name)) ?? Buffer.alloc(0), 0).entries;
    copies.set(segment, Math.max(copies.get(segment) ?? 0, entries[entries.length - 1]?.seq ?? 0));
  }
  return copies;
}
