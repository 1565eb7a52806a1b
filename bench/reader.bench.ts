// `npm run bench:reader`: what a read-only reader (a second VS Code window, `orchestr8 mcp`,
// `orchestr8 status --watch`) costs with a large history, now that it follows the owner's
// journal instead of reloading the store every 3 s.
//   1. idle CPU of a following reader over ~10 s (process.cpuUsage in the reader's own process);
//      against it, what the old 3 s reload cost (one snapshot load + replay, every 3 s);
//   2. ack -> reader event latency: the owner commits a transition, the reader (another process)
//      fires its event; median and p99.
// Writes artifacts/bench/reader.json. BENCH_HISTORY (default 100000 tasks), BENCH_IDLE_MS (10000).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ReadOnlyEngine } from '../src/core/engine/read-only-engine.ts';
import type { RunRecord, TaskRecord } from '../src/core/model/records.ts';
import { DEFAULT_RETRY } from '../src/core/model/workflow.ts';
import { StateStore } from '../src/core/store/state-store.ts';
import type { StoreRecord } from '../src/core/store/store-records.ts';
import { writeBenchArtifact } from './artifacts.ts';

const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const TRANSITIONS = 300;
const now = () => performance.timeOrigin + performance.now();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** The reader under test, in a process of its own so its CPU is its own. */
async function readerChild(stateDir: string): Promise<void> {
  const started = performance.now();
  const reader = await ReadOnlyEngine.open(stateDir, { follow: true });
  reader.onEvent((e) => e.type === 'workflow.completed' && say({ seen: e.run.id, at: now() }));
  say({ ready: true, openMs: performance.now() - started });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [verb, arg] = line.split(' ');
    if (verb === 'idle') {
      const before = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, Number(arg)));
      const used = process.cpuUsage(before);
      say({ idleCpu: (used.user + used.system) / 1000 / (performance.now() - t0) });
    } else if (verb === 'quit') break;
  }
  await reader.close();
  process.exit(0);
}

const runRecord = (id: string, n: number): RunRecord => ({
  id,
  name: id,
  inputs: {},
  state: 'completed',
  single: false,
  cwd: '/tmp',
  createdAt: n,
  finishedAt: n + 1,
});
const taskRecord = (runId: string, i: number, n: number): TaskRecord => ({
  id: `${runId}.t${i}`,
  runId,
  key: `t${i}`,
  name: `t${i}`,
  action: { kind: 'noop' },
  needs: [],
  state: 'completed',
  priority: 0,
  order: i,
  attempt: 1,
  retry: DEFAULT_RETRY,
  continueOnError: false,
  updatedAt: n,
});

/** `tasks` finished tasks in runs of 100, written as the engine's records, then folded into a snapshot. */
async function buildHistory(stateDir: string, tasks: number): Promise<void> {
  const store = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
  for (let r = 0; r < Math.ceil(tasks / 100); r++) {
    const id = `h${r}`;
    const records: StoreRecord[] = [{ t: 'run', run: runRecord(id, r) }];
    for (let i = 0; i < 100; i++) records.push({ t: 'task', task: taskRecord(id, i, r) });
    records.push({ t: 'event', event: { type: 'workflow.completed', at: r, runId: id } });
    await store.commit(records);
  }
  await store.snapshot();
  await store.close();
}

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-bench-reader-'));
  try {
    let t = performance.now();
    await buildHistory(stateDir, HISTORY);
    console.log(`history: ${HISTORY.toLocaleString('en-US')} tasks written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // What the old read-only window paid every 3 s: a whole reload.
    const reloads: number[] = [];
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      await (await StateStore.openReader(stateDir)).close();
      reloads.push(performance.now() - t);
    }
    const reloadMs = median(reloads);

    const owner = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--reader', stateDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const seen = new Map<string, number>();
    const waiting: { match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.seen === 'string') seen.set(message.seen, message.at as number);
      for (const w of waiting.splice(0)) w.match(message) ? w.resolve(message) : waiting.push(w);
    });
    const next = (match: (m: Record<string, unknown>) => boolean) => new Promise<Record<string, unknown>>((resolve) => waiting.push({ match, resolve }));
    const ready = await next((m) => m.ready === true);

    // Settle (the first read of the open segment), then measure an idle stretch.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.stdin!.write(`idle ${IDLE_MS}\n`);
    const idle = (await next((m) => typeof m.idleCpu === 'number')).idleCpu as number;

    const latencies: number[] = [];
    for (let n = 0; n < TRANSITIONS; n++) {
      const id = `live${n}`;
      await owner.commit([
        { t: 'run', run: runRecord(id, n) },
        { t: 'event', event: { type: 'workflow.completed', at: Date.now(), runId: id } },
      ]);
      const acked = now();
      const deadline = Date.now() + 5000;
      while (!seen.has(id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      if (!seen.has(id)) throw new Error(`the reader never saw ${id}`);
      latencies.push(seen.get(id)! - acked);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.stdin!.end('quit\n');
    await new Promise((resolve) => child.on('exit', resolve));
    await owner.close();

    const figures = {
      historyTasks: HISTORY,
      readerOpenMs: ready.openMs as number,
      idleCpuPercentOfCore: idle * 100,
      idleWindowMs: IDLE_MS,
      oldReloadMs: reloadMs,
      oldIdleCpuPercentOfCore: (reloadMs / 3000) * 100,
      ackToReaderEventMs: { median: median(latencies), p99: pct(latencies, 99), max: Math.max(...latencies), samples: latencies.length },
    };
    console.log(`reader open (snapshot + journal): ${figures.readerOpenMs.toFixed(0)} ms`);
    console.log(`idle reader CPU over ${IDLE_MS / 1000} s: ${figures.idleCpuPercentOfCore.toFixed(3)} % of a core (target <= 1 %)`);
    console.log(`  before (a reload every 3 s, ${reloadMs.toFixed(0)} ms each): ~${figures.oldIdleCpuPercentOfCore.toFixed(1)} % of a core`);
    console.log(
      `ack -> reader event: median ${figures.ackToReaderEventMs.median.toFixed(2)} ms, p99 ${figures.ackToReaderEventMs.p99.toFixed(2)} ms, max ${figures.ackToReaderEventMs.max.toFixed(2)} ms (${TRANSITIONS} transitions; target <= 200 ms)`,
    );
    writeBenchArtifact('reader', figures);
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--reader') await readerChild(process.argv[3]!);
else await main();
