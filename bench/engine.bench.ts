// `npm run bench`: the durable engine with an in-process no-op runner.
// Prints medians of several rounds and ratios against baselines measured in the
// same run (one write + fdatasync per record, no group commit; plain BullMQ at
// appendfsync always when redis-server is there), since absolute numbers on a
// shared machine are noisy; CPU per task per thread (bench/thread-cpu.ts); then
// the targets table with verdicts. Writes artifacts/bench/engine.json.
// Env: BENCH_ROUNDS (5), BENCH_TASKS (5000), BENCH_TARGET_TASKS (10000), BENCH_HISTORY (100000),
// BENCH_PLAIN_ROUNDS (3).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encodeRecord } from '../src/core/store/journal-format.ts';
import { listSnapshots } from '../src/core/store/snapshot-files.ts';
import { RedisServer, redisMissingReason } from '../test/support/redis-server.ts';
import { writeBenchArtifact } from './artifacts.ts';
import { LAUNCH_COMMIT_BYTES, rawFdatasyncMs } from './disk-floor.ts';
import { buildHistory, openEngine, wideWorkflow } from './history.ts';
import { runPlainBullmq } from './peers/plain-peer.ts';
import { type Target, loadWarning, target, targetsTable } from './targets.ts';
import { type ThreadCpu, perUnit, sampleThreadCpu, threadCpuSince } from './thread-cpu.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TASKS = Number(process.env.BENCH_TASKS ?? 5000);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
/** Rounds of the plain BullMQ baseline (skipped without redis-server). */
const PLAIN_ROUNDS = Number(process.env.BENCH_PLAIN_ROUNDS ?? 3);
/**
 * Tasks per round of the 100-in-flight row and of the plain BullMQ baseline: the target
 * is stated for 10,000 tasks, as `npm run bench:peers` runs it. Shorter rounds flatter the embedded
 * engine against plain BullMQ (docs/benchmarks.md, "why the two benches disagreed").
 */
const TARGET_TASKS = Number(process.env.BENCH_TARGET_TASKS ?? 10_000);

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

/** What one throughput round measured. */
interface Round {
  perSecond: number;
  launchP50: number;
  launchP99: number;
  /** CPU ms per task by thread, from the first launch to the last completion (false off Linux). */
  cpuPerTask: ThreadCpu | false;
}

/** One round of single no-op tasks through launch → run → complete, keeping `inflight` outstanding. */
async function throughput(inflight: number, total: number): Promise<Round> {
  const stateDir = tmp();
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: inflight });
  const launchMs: number[] = [];
  let launched = 0;
  let completed = 0;
  const cpu0 = sampleThreadCpu();
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
  const cpu = threadCpuSince(cpu0);
  await engine.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
  return { perSecond, launchP50: pct(launchMs, 50), launchP99: pct(launchMs, 99), cpuPerTask: cpu && perUnit(cpu, total) };
}

interface HistoryFigures {
  /** Open → the first launch resolved (durable), the moment a restarted owner takes work again. */
  restartToFirstLaunchMs: number[];
  /** Open alone (snapshot load + journal replay + recovery). */
  openMs: number[];
  /** Longest event-loop stall of the engine's thread while 10,000 more tasks run with snapshots on. */
  maxStallMs: number;
  /** CPU ms per task by thread over those 10,000 tasks (the index worker included). */
  cpuMsPerTask: ThreadCpu | false;
  snapshotMb: number;
}

/** Restart with a big history, then steady load on top of it while watching the event loop. */
async function restartAndStall(stateDir: string): Promise<HistoryFigures> {
  const restartToFirstLaunchMs: number[] = [];
  const openMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const engine = await openEngine({ stateDir, cwd: stateDir });
    openMs.push(performance.now() - start);
    await engine.launch({ task: { action: { kind: 'noop' } } });
    restartToFirstLaunchMs.push(performance.now() - start);
    await engine.close();
  }
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 100, snapshotThreshold: 1024 * 1024 });
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const cpu0 = sampleThreadCpu();
  let finished = 0;
  const runs = 100;
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) await engine.launch({ workflow: wideWorkflow(i, 100) });
  await done;
  histogram.disable();
  const cpu = threadCpuSince(cpu0);
  await engine.close();
  const newest = listSnapshots(stateDir)[0]; // none when the history is too small to reach the threshold
  const snapshotMb = newest ? fs.statSync(newest.path).size / 1e6 : 0;
  return { restartToFirstLaunchMs, openMs, maxStallMs: histogram.max / 1e6, cpuMsPerTask: cpu && perUnit(cpu, runs * 100), snapshotMb };
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

/**
 * The targets table's own baseline: plain BullMQ (Queue.addBulk + a Worker process, 100 in
 * flight) on a private Redis at `appendfsync always`, in this run; undefined without redis-server.
 */
async function plainBullmqAlways(tasks: number): Promise<number[] | undefined> {
  if (PLAIN_ROUNDS < 1 || redisMissingReason()) return undefined;
  const redis = await RedisServer.start({ appendonly: true, appendfsync: 'always' });
  try {
    const perSecond: number[] = [];
    for (let r = 0; r < PLAIN_ROUNDS; r++) perSecond.push((await runPlainBullmq(redis.url, tasks, 100)).tasksPerSecond);
    return perSecond;
  } finally {
    await redis.dispose();
  }
}

const at1 = () => rows.find((r) => r.inFlight === 1)!;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const medianCpu = (rounds: Round[]): ThreadCpu | false => {
  const cpus = rounds.map((r) => r.cpuPerTask).filter((c): c is ThreadCpu => c !== false);
  if (cpus.length === 0) return false;
  return {
    main: median(cpus.map((c) => c.main)),
    workers: median(cpus.map((c) => c.workers)),
    other: median(cpus.map((c) => c.other)),
    process: median(cpus.map((c) => c.process)),
  };
};
const fmtCpu = (c: ThreadCpu | false) => (c ? `${fmt(c.main, 3)} / ${fmt(c.workers, 3)} / ${fmt(c.other, 3)} (${fmt(c.process, 3)})` : 'n/a');

console.log(
  `orchestr8 engine bench · node ${process.version} · ${os.cpus().length} cpus · load ${os.loadavg()[0]!.toFixed(2)} · ${ROUNDS} rounds of ${TASKS} tasks`,
);
if (!process.execArgv.some((a) => a.includes('thread-names')))
  console.log('(started without --import ./bench/thread-names.mjs: worker-thread CPU counts as "other")');
const baseline = median(Array.from({ length: ROUNDS }, () => fsyncPerRecord(2000)));
console.log(`baseline: one write+fdatasync per record: ${fmt(baseline)} records/s (median)`);
const plainRounds = await plainBullmqAlways(TARGET_TASKS);
const plain = plainRounds && median(plainRounds);
console.log(
  plain
    ? `baseline: plain BullMQ, Redis appendfsync always, 100 in flight: ${fmt(plain)} tasks/s (median of ${PLAIN_ROUNDS})\n`
    : 'baseline: plain BullMQ not measured (no redis-server: bash scripts/setup-redis.sh)\n',
);
console.log(
  'in flight | completions/s (median) | × fsync baseline | × plain BullMQ | launch p50 ms | launch p99 ms | CPU ms per task: engine thread / worker threads / other (process)',
);
/** One row of engine.json: medians over the rounds at one in-flight level. */
interface Row {
  inFlight: number;
  tasksPerRound: number;
  completionsPerSec: number;
  vsFsyncBaseline: number;
  vsPlainBullmqAlways: number | null;
  launchP50Ms: number;
  launchP99Ms: number;
  cpuMsPerTask: ThreadCpu | null;
}
/** The raw fdatasync samples taken between the 1-in-flight rounds (the launch's floor). */
const rawFsyncMs: number[] = [];
const rows: Row[] = [];
for (const inflight of [1, 10, 100]) {
  const rounds: Round[] = [];
  const tasksPerRound = inflight === 1 ? Math.min(TASKS, 1000) : inflight === 100 ? TARGET_TASKS : TASKS;
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved with the rounds it is compared with, so both see the same disk and load.
    if (inflight === 1) rawFsyncMs.push(...rawFdatasyncMs(tasksPerRound));
    rounds.push(await throughput(inflight, tasksPerRound));
  }
  const completionsPerSec = median(rounds.map((r) => r.perSecond));
  const row: Row = {
    inFlight: inflight,
    tasksPerRound,
    completionsPerSec,
    vsFsyncBaseline: completionsPerSec / baseline,
    vsPlainBullmqAlways: plain ? completionsPerSec / plain : null,
    launchP50Ms: median(rounds.map((r) => r.launchP50)),
    launchP99Ms: median(rounds.map((r) => r.launchP99)),
    cpuMsPerTask: medianCpu(rounds) || null,
  };
  rows.push(row);
  console.log(
    `${String(inflight).padStart(9)} | ${fmt(row.completionsPerSec).padStart(22)} | ${fmt(row.vsFsyncBaseline, 2).padStart(16)} | ${(plain ? fmt(row.completionsPerSec / plain, 2) : 'n/a').padStart(14)} | ${fmt(row.launchP50Ms, 3).padStart(13)} | ${fmt(row.launchP99Ms, 3).padStart(13)} | ${fmtCpu(row.cpuMsPerTask ?? false)}`,
  );
}

const disk = { p50: pct(rawFsyncMs, 50), p99: pct(rawFsyncMs, 99) };
const launchOverDisk = { p50: at1().launchP50Ms / disk.p50, p99: at1().launchP99Ms / disk.p99 };
console.log(
  `launch at 1 in flight against this disk's own write + fdatasync (${LAUNCH_COMMIT_BYTES} bytes, ${fmt(rawFsyncMs.length)} samples between those rounds): ` +
    `p50 ${fmt(at1().launchP50Ms, 3)} / ${fmt(disk.p50, 3)} ms = ${fmt(launchOverDisk.p50, 2)}×, p99 ${fmt(at1().launchP99Ms, 3)} / ${fmt(disk.p99, 3)} ms = ${fmt(launchOverDisk.p99, 2)}×`,
);

const workflowRounds: number[] = [];
for (let r = 0; r < ROUNDS; r++) workflowRounds.push(await workflowThroughput(TASKS));
const inWorkflows = median(workflowRounds);
console.log(`  100 (in workflows of 100 tasks) | ${fmt(inWorkflows)} completions/s | ${fmt(inWorkflows / baseline, 2)} × fsync baseline`);

const historyDir = tmp();
const t = performance.now();
await buildHistory(historyDir, HISTORY);
const buildSeconds = (performance.now() - t) / 1000;
console.log(`\nhistory: ${fmt(HISTORY)} tasks built through the engine in ${fmt(buildSeconds, 1)} s`);
const history = await restartAndStall(historyDir);
console.log(
  `restart with ${fmt(HISTORY)} tasks in history until the first launch is accepted: median ${fmt(median(history.restartToFirstLaunchMs), 1)} ms (${history.restartToFirstLaunchMs.map((x) => fmt(x, 1)).join(', ')}); open alone ${fmt(median(history.openMs), 1)} ms; snapshot ${fmt(history.snapshotMb, 1)} MB`,
);
console.log(`longest engine-thread stall while running 10,000 more tasks on top (snapshots on): ${fmt(history.maxStallMs, 1)} ms`);
console.log(`  CPU ms per task meanwhile: engine thread / worker threads / other (process): ${fmtCpu(history.cpuMsPerTask)}`);
fs.rmSync(historyDir, { recursive: true, force: true });

// The targets table, as far as this bench measures it.
const at = (inFlight: number) => rows.find((r) => r.inFlight === inFlight)!;
const targets: Target[] = [
  target('embedded durable no-op completions/s, 100 in flight, vs plain BullMQ at appendfsync always', at(100).vsPlainBullmqAlways, '≥', 1.5, '×'),
  target('engine-thread CPU per task (100 in flight)', at(100).cpuMsPerTask?.main ?? null, '≤', 0.15, 'ms'),
  target('launch p99, durable, 1 in flight', at(1).launchP99Ms, '≤', 2, 'ms'),
  target(`longest engine-thread stall, ${fmt(HISTORY)} tasks of history, 10,000 more running, snapshots on`, history.maxStallMs, '≤', 20, 'ms'),
  target(
    `restart with ${fmt(HISTORY)} tasks of history until the first launch is accepted (median of 3)`,
    median(history.restartToFirstLaunchMs),
    '≤',
    100,
    'ms',
  ),
];
console.log(`\n${targetsTable(targets)}`);
const busy = loadWarning();
if (busy) console.log(busy);

const file = writeBenchArtifact('engine', {
  settings: { rounds: ROUNDS, tasksPerRound: TASKS, targetTasksPerRound: TARGET_TASKS, historyTasks: HISTORY, plainRounds: PLAIN_ROUNDS },
  baselines: { fsyncPerRecordPerSec: baseline, plainBullmqAlwaysTasksPerSec: plain ?? null, plainBullmqAlwaysRounds: plainRounds ?? null },
  rows,
  launchVsDisk: {
    bytes: LAUNCH_COMMIT_BYTES,
    samples: rawFsyncMs.length,
    rawFdatasyncMs: disk,
    launchMs: { p50: at1().launchP50Ms, p99: at1().launchP99Ms },
    ratio: launchOverDisk,
  },
  inWorkflowsOf100: { completionsPerSec: inWorkflows, vsFsyncBaseline: inWorkflows / baseline, vsPlainBullmqAlways: plain ? inWorkflows / plain : null },
  history: {
    tasks: HISTORY,
    buildSeconds,
    restartToFirstLaunchMs: { median: median(history.restartToFirstLaunchMs), samples: history.restartToFirstLaunchMs },
    openMs: { median: median(history.openMs), samples: history.openMs },
    longestEngineThreadStallMs: history.maxStallMs,
    cpuMsPerTaskWhileStalled: history.cpuMsPerTask || null,
    snapshotMb: history.snapshotMb,
  },
  targets,
  ...(busy ? { warning: busy } : {}),
});
console.log(`\nfigures: ${path.relative(process.cwd(), file)}`);
