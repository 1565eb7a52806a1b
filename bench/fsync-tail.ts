// `node --import tsx bench/fsync-tail.ts`: this disk's fdatasync latency after a journal-sized
// write (FSYNC_BYTES, default 200: one group commit at 1 in flight) appended to a growing file,
// against the same write overwriting a file preallocated ahead (zero-filled and fsynced first, so
// its size never changes: no metadata journal commit on ext4/xfs). Interleaved in rounds so both
// see the same machine; prints p50/p90/p99/p99.9/max per mode and writes artifacts/bench/fsync-tail.json.
// It decides whether preallocating journal segments would cut launch p99 (docs/benchmarks.md).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchArtifact } from './artifacts.ts';

const WRITES = Number(process.env.FSYNC_WRITES ?? 2000);
const ROUNDS = Number(process.env.FSYNC_ROUNDS ?? 5);
const BYTES = Number(process.env.FSYNC_BYTES ?? 200);
const dir = fs.mkdtempSync(path.join(process.env.FSYNC_DIR ?? os.tmpdir(), 'o8-fsync-'));
const record = Buffer.alloc(BYTES, 7);

function timeWrites(fd: number, positioned: boolean): number[] {
  const ms: number[] = [];
  let at = 0;
  for (let i = 0; i < WRITES; i++) {
    const t = process.hrtime.bigint();
    if (positioned) fs.writeSync(fd, record, 0, BYTES, at);
    else fs.writeSync(fd, record);
    fs.fdatasyncSync(fd);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    at += BYTES;
  }
  return ms;
}

function appendRound(): number[] {
  const file = path.join(dir, 'append.journal');
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, 'a');
  try {
    return timeWrites(fd, false);
  } finally {
    fs.closeSync(fd);
  }
}

function preallocatedRound(): number[] {
  const file = path.join(dir, 'prealloc.journal');
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, 'w+');
  try {
    fs.writeSync(fd, Buffer.alloc(WRITES * BYTES)); // zero-filled ahead, as a preallocating journal would
    fs.fsyncSync(fd);
    return timeWrites(fd, true);
  } finally {
    fs.closeSync(fd);
  }
}

function quantiles(ms: number[]): { p50: number; p90: number; p99: number; p999: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1]! };
}

function summary(ms: number[]): string {
  const q = quantiles(ms);
  return `p50 ${q.p50.toFixed(3)}  p90 ${q.p90.toFixed(3)}  p99 ${q.p99.toFixed(3)}  p99.9 ${q.p999.toFixed(3)}  max ${q.max.toFixed(3)} ms`;
}

const all = { append: [] as number[], preallocated: [] as number[] };
console.log(`fdatasync after a ${BYTES}-byte write, ${WRITES} writes x ${ROUNDS} rounds, in ${dir}`);
for (let round = 1; round <= ROUNDS; round++) {
  const a = appendRound();
  const p = preallocatedRound();
  all.append.push(...a);
  all.preallocated.push(...p);
  console.log(`round ${round}  append:       ${summary(a)}\n         preallocated: ${summary(p)}`);
}
console.log(`all      append:       ${summary(all.append)}\n         preallocated: ${summary(all.preallocated)}`);
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const file = writeBenchArtifact('fsync-tail', {
  settings: { writes: WRITES, rounds: ROUNDS, bytes: BYTES },
  appendMs: quantiles(all.append),
  preallocatedMs: quantiles(all.preallocated),
});
console.log(`figures: ${path.relative(process.cwd(), file)}`);
fs.rmSync(dir, { recursive: true, force: true });
