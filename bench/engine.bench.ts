// `npm run bench`: the durable engine with an in-process no-op runner.
// Prints medians of several rounds and ratios against a baseline measured in the
// same run (one write + fdatasync per record, no group commit), since absolute
// numbers on a shared machine are noisy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Engine } from '../src/core/engine/engine.ts';
import type { EngineOptions } from '../src/core/engine/engine-options.ts';
import type { WorkflowDef } from '../src/core/model/workflow.ts';
import { DEFAULT_RETRY } from '../src/core/model/workflow.ts';
import { encodeRecord } from '../src/core/store/journal-format.ts';
import { listSnapshots } from '../src/core/store/snapshot-files.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TASKS = Number(process.env.BENCH_TASKS ?? 5000);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);

/** The snapshot worker as shipped (`npm run bench` builds it first), not the TypeScript source through tsx. */
const SHIPPED_WORKER = fileURLToPath(new URL('../dist/snapshot-worker.cjs', import.meta.url));
const openEngine = (options: Omit<EngineOptions, 'snapshotWorker'>) => Engine.open({ ...options, snapshotWorker: SHIPPED_WORKER });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o8-bench-'));

/** Baseline: durable records/s when each record gets its own write + fdatasync. */
function fsyncPerRecord(n: number): number {
  const dir = tmp();
  const fd = fs.openSync(path.join(dir, 'j'), 'a');
  const frame = encodeRecord({ seq: 1, record: { t: 'event', event: { type: 'task.completed', at: Date.now(), runId: 'r', taskId: 'r.t' } } });
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    fs.writeSync(fd, frame);
    fs.fdatasyncSync(fd);
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return perSecond;
}

/** Single no-op tasks through launch → run → complete, keeping `inflight` outstanding. */
async function throughput(inflight: number, total: number): Promise<{ perSecond: number; launchP50: number; launchP99: number }> {
  const stateDir = tmp();
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: inflight });
  const launchMs: number[] = [];
  let launched = 0;
  let completed = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    engine.onEvent((e) => {
      if (e.type !== 'workflow.completed') return;
      completed++;
      if (completed === total) resolve();
      else if (launched < total) void launchOne();
    });
    const launchOne = async () => {
      launched++;
      const t = performance.now();
      await engine.launch({ task: { action: { kind: 'noop' } } });
      launchMs.push(performance.now() - t);
    };
    for (let i = 0; i < inflight; i++) void launchOne();
  });
  const perSecond = total / ((performance.now() - start) / 1000);
  await engine.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  return { perSecond, launchP50: pct(launchMs, 50), launchP99: pct(launchMs, 99) };
}

function wideWorkflow(n: number, width: number): WorkflowDef {
  return {
    name: `history-${n}`,
    inputs: [],
    tasks: Array.from({ length: width }, (_, i) => ({ id: `t${i}`, needs: [], action: { kind: 'noop' as const }, retry: DEFAULT_RETRY, continueOnError: false, priority: 0 })),
  };
}

/** Fills a state folder with `tasks` finished tasks (runs of 100), through the real engine. */
async function buildHistory(stateDir: string, tasks: number): Promise<void> {
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 100 });
  const runs = Math.ceil(tasks / 100);
  let finished = 0;
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) {
    await engine.launch({ workflow: wideWorkflow(i, 100) });
    if (engine.activeRunCount > 20) await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  await engine.close();
}

/** Restart with a big history, then steady load on top of it while watching the event loop. */
async function restartAndStall(stateDir: string): Promise<{ restartMs: number[]; maxStallMs: number; snapshotMb: number }> {
  const restartMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const engine = await openEngine({ stateDir, cwd: stateDir });
    restartMs.push(performance.now() - start);
    await engine.close();
  }
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 100, snapshotThreshold: 1024 * 1024 });
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let finished = 0;
  const runs = 100;
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) await engine.launch({ workflow: wideWorkflow(i, 100) });
  await done;
  histogram.disable();
  await engine.close();
  const snapshotMb = fs.statSync(listSnapshots(stateDir)[0]!.path).size / 1e6;
  return { restartMs, maxStallMs: histogram.max / 1e6, snapshotMb };
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

console.log(`orchestr8 engine bench · node ${process.version} · ${os.cpus().length} cpus · load ${os.loadavg()[0]!.toFixed(2)} · ${ROUNDS} rounds of ${TASKS} tasks`);
const baseline = median(Array.from({ length: ROUNDS }, () => fsyncPerRecord(2000)));
console.log(`baseline: one write+fdatasync per record: ${fmt(baseline)} records/s (median)\n`);
console.log('in flight | completions/s (median) | × baseline | launch p50 ms | launch p99 ms');
for (const inflight of [1, 10, 100]) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await throughput(inflight, inflight === 1 ? Math.min(TASKS, 1000) : TASKS));
  const perSecond = median(rounds.map((r) => r.perSecond));
  console.log(
    `${String(inflight).padStart(9)} | ${fmt(perSecond).padStart(22)} | ${fmt(perSecond / baseline, 2).padStart(10)} | ${fmt(median(rounds.map((r) => r.launchP50)), 3).padStart(13)} | ${fmt(median(rounds.map((r) => r.launchP99)), 3).padStart(13)}`,
  );
}

/** The same no-op tasks inside workflows of 100 (the DAG case): one run record and notification per 100 tasks. */
async function workflowThroughput(total: number): Promise<number> {
  const stateDir = tmp();
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 100 });
  const runs = Math.ceil(total / 100);
  let finished = 0;
  const start = performance.now();
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) await engine.launch({ workflow: wideWorkflow(i, 100) });
  await done;
  const perSecond = (runs * 100) / ((performance.now() - start) / 1000);
  await engine.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  return perSecond;
}

const workflowRounds: number[] = [];
for (let r = 0; r < ROUNDS; r++) workflowRounds.push(await workflowThroughput(TASKS));
const inWorkflows = median(workflowRounds);
console.log(`  100 (in workflows of 100 tasks) | ${fmt(inWorkflows)} completions/s | ${fmt(inWorkflows / baseline, 2)} × baseline`);

const historyDir = tmp();
const t = performance.now();
await buildHistory(historyDir, HISTORY);
console.log(`\nhistory: ${fmt(HISTORY)} tasks built through the engine in ${fmt((performance.now() - t) / 1000, 1)} s`);
const history = await restartAndStall(historyDir);
console.log(`restart with ${fmt(HISTORY)} tasks in history: median ${fmt(median(history.restartMs), 1)} ms (${history.restartMs.map((x) => fmt(x, 1)).join(', ')}); snapshot ${fmt(history.snapshotMb, 1)} MB`);
console.log(`longest event-loop stall while running 10,000 more tasks on top (snapshots on): ${fmt(history.maxStallMs, 1)} ms`);
fs.rmSync(historyDir, { recursive: true, force: true });
