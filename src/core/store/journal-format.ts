import CRC32 from 'crc-32';
import type { SequencedRecord, StoreRecord } from './store-records.ts';

/**
 * On-disk framing of one journal record:
 *   u32le payload length | i32le CRC-32 of payload | payload (UTF-8 JSON {"s":seq,"r":record})
 * The checksum catches torn and corrupted writes; the sequence number catches
 * reordering and gaps.
 */
const HEADER = 8;

export function encodeRecord(entry: SequencedRecord): Buffer {
  const json = `{"s":${entry.seq},"r":${recordJson(entry.record)}}`;
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER + length);
  frame.writeUInt32LE(length, 0);
  frame.write(json, HEADER, 'utf8');
  frame.writeInt32LE(CRC32.buf(frame.subarray(HEADER)), 4);
  return frame;
}

const rowJsonCache = new WeakMap<object, string>();

/**
 * JSON of a run or task row, computed once per object: the journal frame and the
 * table's `doc` column both need it, and rows are never mutated (every move makes a new one).
 */
export function rowJson(row: object): string {
  let json = rowJsonCache.get(row);
  if (json === undefined) {
    json = JSON.stringify(row);
    rowJsonCache.set(row, json);
  }
  return json;
}

function recordJson(record: StoreRecord): string {
  if (record.t === 'task') return `{"t":"task","task":${rowJson(record.task)}}`;
  if (record.t === 'run') return `{"t":"run","run":${rowJson(record.run)}}`;
  return JSON.stringify(record);
}

/** A frame longer than this is taken for damage: records are rows of JSON, far smaller. */
const MAX_FRAME = 64 * 1024 * 1024;
const PAYLOAD_START = Buffer.from('{"s":');

/** What a scan of one segment found. */
export interface ScanResult {
  /** Valid records, in file order, each with a higher seq than the one before. */
  entries: SequencedRecord[];
  /** Bad bytes with valid records after them: corruption, not a torn write. */
  damaged: { offset: number; length: number; problem: string }[];
  /** Bad bytes running to the end of the buffer (a torn tail, in the newest segment). */
  tail?: { offset: number; problem: string };
}

/**
 * Decodes every valid record of a segment. A bad frame does not end the scan: it
 * resynchronises on the next valid one (length plausible, checksum right, JSON that
 * parses, seq from `firstSeq` on, above the last one read and below `beforeSeq`, the
 * next segment's first), so one damaged record never costs the intact records after it.
 */
export function scanFrames(buf: Buffer, firstSeq: number, beforeSeq = Number.MAX_SAFE_INTEGER): ScanResult {
  const result: ScanResult = { entries: [], damaged: [] };
  let last = firstSeq - 1;
  let offset = 0;
  while (offset < buf.length) {
    const frame = readFrame(buf, offset, last, beforeSeq);
    if ('entry' in frame) {
      result.entries.push(frame.entry);
      last = frame.entry.seq;
      offset = frame.end;
      continue;
    }
    let next = offset + 1;
    let found: { entry: SequencedRecord; end: number } | undefined;
    for (; next < buf.length; next++) {
      const candidate = readFrame(buf, next, last, beforeSeq);
      if ('entry' in candidate) {
        found = candidate;
        break;
      }
    }
    if (!found) {
      result.tail = { offset, problem: frame.problem };
      break;
    }
    result.damaged.push({ offset, length: next - offset, problem: frame.problem });
    offset = next;
  }
  return result;
}

function readFrame(buf: Buffer, offset: number, afterSeq: number, beforeSeq: number): { entry: SequencedRecord; end: number } | { problem: string } {
  if (buf.length - offset < HEADER) return { problem: 'incomplete record header' };
  const length = buf.readUInt32LE(offset);
  const end = offset + HEADER + length;
  if (length > MAX_FRAME) return { problem: 'implausible record length' };
  if (end > buf.length) return { problem: 'incomplete record' };
  const payload = buf.subarray(offset + HEADER, end);
  // Cheap test first: resynchronising tries every offset of the damaged stretch.
  if (length < PAYLOAD_START.length || !payload.subarray(0, PAYLOAD_START.length).equals(PAYLOAD_START)) return { problem: 'not a record' };
  if (CRC32.buf(payload) !== buf.readInt32LE(offset + 4)) return { problem: 'checksum mismatch' };
  let parsed: { s: unknown; r: SequencedRecord['record'] };
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return { problem: 'unreadable record' };
  }
  if (typeof parsed.s !== 'number' || !Number.isSafeInteger(parsed.s)) return { problem: 'record without a sequence number' };
  if (parsed.s <= afterSeq || parsed.s >= beforeSeq) return { problem: `out-of-order sequence number ${parsed.s}` };
  return { entry: { seq: parsed.s, record: parsed.r }, end };
}
