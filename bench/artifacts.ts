import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** artifacts/bench/ of this checkout, wherever the bench is started from. */
export const BENCH_ARTIFACTS = fileURLToPath(new URL('../artifacts/bench/', import.meta.url));

/**
 * Writes a bench's figures to `artifacts/bench/<bench>.json` (documented in
 * docs/benchmarks.md) for scripts to read, with when and where they were measured,
 * since figures from the shared VM only mean something next to their machine and load.
 */
export function writeBenchArtifact(bench: string, figures: object): string {
  const file = path.join(BENCH_ARTIFACTS, `${bench}.json`);
  fs.mkdirSync(BENCH_ARTIFACTS, { recursive: true });
  const machine = { node: process.version, cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAvg: os.loadavg() };
  fs.writeFileSync(file, `${JSON.stringify({ bench, measuredAt: new Date().toISOString(), machine, ...figures }, null, 2)}\n`);
  return file;
}
