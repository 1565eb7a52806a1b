// `npm run bench:records`: what one journal record costs to encode and decode, v1 (JSON, full
// rows) against v2 (msgpack, patches after a row's first record), on real records: the journal
// of test/core/fixtures/v1-state (launches, starts, completions, failures, retries, a cancel, a
// signal, usage, a gate, a checkpoint, webhook rows). v2's stream is that journal as the engine
// records it now: each run or task row whole the first time, then the fields that changed.
// Writes artifacts/bench/records.json. BENCH_LOOPS (default 2000) passes over the records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRecord, encodeRecordV1, scanFrames } from '../src/core/store/journal-format.ts';
import { listSegments } from '../src/core/store/journal.ts';
import { RowShadow } from '../src/core/store/row-shadow.ts';
import type { SequencedRecord } from '../src/core/store/store-records.ts';

const LOOPS = Number(process.env.BENCH_LOOPS ?? 2000);
const ROUNDS = 5;
const FIXTURE = fileURLToPath(new URL('../test/core/fixtures/v1-state/journal/', import.meta.url));

const v1Entries: SequencedRecord[] = listSegments(FIXTURE).flatMap((s) => scanFrames(fs.readFileSync(s.path), s.firstSeq).entries);

/** The same journal as the engine records it now (RowShadow: each run or task row whole once, then as patches). */
function compacted(entries: SequencedRecord[]): SequencedRecord[] {
  const shadow = new RowShadow();
  return entries.map(({ seq, record }) => ({ seq, record: shadow.compact(record) }));
}

const v2Entries = compacted(v1Entries);

interface Figures {
  records: number;
  bytesPerRecord: number;
  encodeUsPerRecord: number;
  decodeUsPerRecord: number;
}

function measure(entries: SequencedRecord[], encode: (e: SequencedRecord) => Buffer): Figures {
  const frames = Buffer.concat(entries.map(encode));
  const encodeUs: number[] = [];
  const decodeUs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < LOOPS; i++) for (const entry of entries) encode(entry);
    encodeUs.push(((performance.now() - t) * 1000) / (LOOPS * entries.length));
    t = performance.now();
    for (let i = 0; i < LOOPS; i++) if (scanFrames(frames, entries[0]!.seq).entries.length !== entries.length) throw new Error('decode lost records');
    decodeUs.push(((performance.now() - t) * 1000) / (LOOPS * entries.length));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { records: entries.length, bytesPerRecord: frames.length / entries.length, encodeUsPerRecord: median(encodeUs), decodeUsPerRecord: median(decodeUs) };
}

const results = {
  'v1 JSON, full rows': measure(v1Entries, encodeRecordV1),
  'JSON, patches': measure(v2Entries, encodeRecordV1),
  'msgpack, full rows': measure(v1Entries, encodeRecord),
  'v2 msgpack, patches': measure(v2Entries, encodeRecord),
};

const kinds = (entries: SequencedRecord[]) => {
  const n: Record<string, number> = {};
  for (const e of entries) n[e.record.t] = (n[e.record.t] ?? 0) + 1;
  return n;
};
console.log(`orchestr8 records bench · node ${process.version} · load ${os.loadavg()[0]!.toFixed(2)} · ${LOOPS} passes over the v1-state fixture journal`);
console.log(`v1 records: ${JSON.stringify(kinds(v1Entries))}`);
console.log(`v2 records: ${JSON.stringify(kinds(v2Entries))}\n`);
console.log('format              | records | bytes/record | total bytes | encode µs/record | decode µs/record | encode+decode µs per v1 record');
for (const [name, f] of Object.entries(results)) {
  // Per record of the v1 stream, so that a format with fewer records is credited for them.
  const perV1 = ((f.encodeUsPerRecord + f.decodeUsPerRecord) * f.records) / v1Entries.length;
  console.log(
    `${name.padEnd(19)} | ${String(f.records).padStart(7)} | ${f.bytesPerRecord.toFixed(0).padStart(12)} | ${String(Math.round(f.bytesPerRecord * f.records)).padStart(11)} | ${f.encodeUsPerRecord.toFixed(2).padStart(16)} | ${f.decodeUsPerRecord.toFixed(2).padStart(16)} | ${perV1.toFixed(2)}`,
  );
}
const avgBytes = (entries: SequencedRecord[], t: string, encode: (e: SequencedRecord) => Buffer) => {
  const sizes = entries.filter((e) => e.record.t === t).map((e) => encode(e).length);
  return Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
};
const taskBytes = {
  v1FullRow: avgBytes(v1Entries, 'task', encodeRecordV1),
  v2FullRow: avgBytes(v2Entries, 'task', encodeRecord),
  v2Patch: avgBytes(v2Entries, 'task-patch', encodeRecord),
};
console.log(
  `\na task transition: v1 full row ${taskBytes.v1FullRow} bytes; v2 patch ${taskBytes.v2Patch} bytes (a v2 full row, at launch: ${taskBytes.v2FullRow} bytes)`,
);
fs.mkdirSync('artifacts/bench', { recursive: true });
fs.writeFileSync(
  path.join('artifacts/bench', 'records.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loops: LOOPS, results, taskBytes }, null, 2)}\n`,
);
