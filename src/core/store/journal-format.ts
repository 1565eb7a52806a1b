import CRC32 from 'crc-32';
import { Packr } from 'msgpackr';
import type { SequencedRecord } from './store-records.ts';

/**
 * On-disk format of a journal segment.
 *
 * Version 2 (written since state core v2):
 *   segment = header frame*
 *   header  = the 21 ASCII bytes "orchestr8 journal v2\n", written with the segment's first batch
 *   frame   = u32le payload length | i32le CRC-32 of payload | payload
 *   payload = MessagePack array [seq, record] (plain msgpack: maps with their keys, no shared
 *             structures, so any process decodes any frame on its own); its first byte is
 *             always 0x92 (an array of two), which a resync tests before the checksum
 *
 * Version 1 (before): no header; the same frame with the payload UTF-8 JSON {"s":seq,"r":record}.
 *
 * Frames say which version they are by their payload's first bytes, so a reader decodes a
 * segment of either version (and resynchronises on either after damage); the header names
 * the segment's version so that a build meeting a newer one refuses it instead of taking its
 * frames for damage and setting them aside. A header shorter than its 21 bytes is a torn
 * first write, like a torn record. The writer appends version 2 only to a segment that
 * starts with its header (or an empty one): after an older segment it opens a new one.
 */
export const JOURNAL_VERSION = 2;
const HEADER_PREFIX = Buffer.from('orchestr8 journal v');
export const SEGMENT_HEADER = Buffer.from(`orchestr8 journal v${JOURNAL_VERSION}\n`);

const HEADER = 8;
const V2_PAYLOAD_START = 0x92;
const V1_PAYLOAD_START = Buffer.from('{"s":');

/** Plain msgpack (see above); `undefined` fields are left out of rows' patches by design, not by the encoder. */
const packr = new Packr({ useRecords: false });

export function encodeRecord(entry: SequencedRecord): Buffer {
  const payload = packr.pack([entry.seq, entry.record]);
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeInt32LE(CRC32.buf(payload), 4);
  payload.copy(frame, HEADER);
  return frame;
}

/** A version 1 frame, as the code before versioning wrote it: for tests of the migration. */
export function encodeRecordV1(entry: SequencedRecord): Buffer {
  const json = JSON.stringify({ s: entry.seq, r: entry.record });
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER + length);
  frame.writeUInt32LE(length, 0);
  frame.write(json, HEADER, 'utf8');
  frame.writeInt32LE(CRC32.buf(frame.subarray(HEADER)), 4);
  return frame;
}

/** A segment written by a newer build than this one: never read as damage, never repaired. */
export class UnsupportedJournalVersionError extends Error {
  constructor(readonly version: number) {
    super(`journal segment is format v${version}, newer than this build reads (v${JOURNAL_VERSION}): update orchestr8`);
  }
}

/**
 * The segment header at the start of `buf`: its length and version; `torn` when `buf` ends
 * inside it; undefined when `buf` does not start with one (a version 1 segment, or bytes
 * read from the middle of a segment).
 */
export function readSegmentHeader(buf: Buffer): { length: number; version: number } | 'torn' | undefined {
  if (buf.length === 0) return undefined;
  const prefix = Math.min(buf.length, HEADER_PREFIX.length);
  if (!buf.subarray(0, prefix).equals(HEADER_PREFIX.subarray(0, prefix))) return undefined;
  const end = buf.indexOf(0x0a, HEADER_PREFIX.length);
  if (end < 0) return buf.length < SEGMENT_HEADER.length + 4 ? 'torn' : undefined;
  const version = Number(buf.subarray(HEADER_PREFIX.length, end).toString('latin1'));
  return Number.isSafeInteger(version) && version > 0 ? { length: end + 1, version } : undefined;
}

/** A frame longer than this is taken for damage: records are single rows, far smaller. */
const MAX_FRAME = 64 * 1024 * 1024;

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
 * Decodes every valid record of a segment (or of its bytes from a frame boundary on), of
 * either version. A bad frame does not end the scan: it resynchronises on the next valid one
 * (length plausible, checksum right, a payload that decodes, seq from `firstSeq` on, above
 * the last one read and below `beforeSeq`, the next segment's first), so one damaged record
 * never costs the intact records after it. Throws UnsupportedJournalVersionError on a
 * segment of a newer version.
 */
export function scanFrames(buf: Buffer, firstSeq: number, beforeSeq = Number.MAX_SAFE_INTEGER): ScanResult {
  const result: ScanResult = { entries: [], damaged: [] };
  const header = readSegmentHeader(buf);
  if (header === 'torn') return { ...result, tail: { offset: 0, problem: 'incomplete segment header' } };
  if (header && header.version > JOURNAL_VERSION) throw new UnsupportedJournalVersionError(header.version);
  let last = firstSeq - 1;
  let offset = header?.length ?? 0;
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
  const v2 = length > 0 && payload[0] === V2_PAYLOAD_START;
  if (!v2 && (length < V1_PAYLOAD_START.length || !payload.subarray(0, V1_PAYLOAD_START.length).equals(V1_PAYLOAD_START))) return { problem: 'not a record' };
  if (CRC32.buf(payload) !== buf.readInt32LE(offset + 4)) return { problem: 'checksum mismatch' };
  const decoded = v2 ? decodeV2(payload) : decodeV1(payload);
  if (!decoded) return { problem: 'unreadable record' };
  const [seq, record] = decoded;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return { problem: 'record without a sequence number' };
  if (seq <= afterSeq || seq >= beforeSeq) return { problem: `out-of-order sequence number ${seq}` };
  return { entry: { seq, record: record as SequencedRecord['record'] }, end };
}

function decodeV2(payload: Buffer): [unknown, unknown] | undefined {
  try {
    const value: unknown = packr.unpack(payload);
    return Array.isArray(value) && value.length === 2 ? [value[0], value[1]] : undefined;
  } catch {
    return undefined;
  }
}

function decodeV1(payload: Buffer): [unknown, unknown] | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { s: unknown; r: unknown };
    return [parsed.s, parsed.r];
  } catch {
    return undefined;
  }
}
