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

export interface DecodeResult {
  entries: SequencedRecord[];
  /** Bytes of whole, valid records from the start of the buffer. */
  validLength: number;
  /** Why decoding stopped before the end, if it did. */
  problem?: string;
}

/** Decodes records until the end or the first bad one; `expectSeq` is the seq the first record must carry (if known). */
export function decodeRecords(buf: Buffer, expectSeq?: number): DecodeResult {
  const entries: SequencedRecord[] = [];
  let offset = 0;
  let next = expectSeq;
  while (offset < buf.length) {
    if (buf.length - offset < HEADER) return { entries, validLength: offset, problem: 'incomplete record header' };
    const length = buf.readUInt32LE(offset);
    const crc = buf.readInt32LE(offset + 4);
    const end = offset + HEADER + length;
    if (end > buf.length) return { entries, validLength: offset, problem: 'incomplete record' };
    const payload = buf.subarray(offset + HEADER, end);
    if (CRC32.buf(payload) !== crc) return { entries, validLength: offset, problem: 'checksum mismatch' };
    let parsed: { s: number; r: SequencedRecord['record'] };
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return { entries, validLength: offset, problem: 'unreadable record' };
    }
    if (next !== undefined && parsed.s !== next) {
      return { entries, validLength: offset, problem: `sequence gap: expected ${next}, found ${parsed.s}` };
    }
    entries.push({ seq: parsed.s, record: parsed.r });
    next = parsed.s + 1;
    offset = end;
  }
  return { entries, validLength: offset };
}
