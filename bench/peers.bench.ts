/**
 * `npm run bench:peers`: the same no-op load (10,000 tasks, 100 in flight) through
 * (a) the embedded engine, (b) this project in BullMQ mode, (c) plain BullMQ Queue +
 * Worker with no project code, with Redis at `appendfsync always` and `everysec`.
 * Prints a Markdown table (tasks/s, enqueue-to-start p50/p99, CPU per task, ratios)
 * for docs/benchmarks.md and writes the figures to artifacts/bench/peers.json.
 * Env: O8_PEERS_TASKS, O8_PEERS_IN_FLIGHT to scale it.
 */
import os from 'node:os';
import { RedisServer, redisMissingReason } from '../test/support/redis-server.ts';
import type { AppendFsync } from '../test/support/redis-server.ts';
import { runBullmqMode, runEmbedded } from './peers/engine-peer.ts';
import { runPlainBullmq } from './peers/plain-peer.ts';
import { processCpuSeconds } from './peers/cpu.ts';
import type { PeerResult } from './peers/stats.ts';
import { writeBenchArtifact } from './artifacts.ts';
import { loadWarning, target, targetsTable } from './targets.ts';

const TASKS = Number(process.env.O8_PEERS_TASKS ?? 10_000);
const IN_FLIGHT = Number(process.env.O8_PEERS_IN_FLIGHT ?? 100);
/** Rounds of all five measurements; ratios are taken within a round, then the median over rounds. */
const ROUNDS = Math.max(1, Number(process.env.O8_PEERS_ROUNDS ?? 1));

interface Row extends PeerResult {
  fsync: AppendFsync | 'n/a (sql.js journal, fsync per group commit)';
  load: string;
}

const loadNow = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** CPU ms per task, per process of the peer (and Redis's own, when it has one). */
const cpuPerTask = (r: Row) =>
  Object.entries(r.cpu)
    .map(([name, seconds]) => `${name} ${((seconds * 1000) / r.tasks).toFixed(2)}`)
    .join(', ');

async function measure<T extends PeerResult>(what: () => Promise<T>, fsync: Row['fsync'], redisPid?: number): Promise<Row> {
  const before = loadNow();
  const redis0 = redisPid ? processCpuSeconds(redisPid) : 0;
  const result = await what();
  if (redisPid) result.cpu['redis'] = processCpuSeconds(redisPid) - redis0;
  const row = { ...result, fsync, load: `${before} → ${loadNow()}` };
  process.stderr.write(
    `${row.peer} [${fsync}]: ${row.tasksPerSecond.toFixed(0)} tasks/s, p50 ${row.p50} ms, p99 ${row.p99} ms (load ${row.load}; CPU ms/task: ${cpuPerTask(row)})\n`,
  );
  return row;
}

const missing = redisMissingReason();
if (missing) {
  process.stderr.write(`bench:peers needs redis-server: ${missing}\n`);
  process.exit(2);
}

process.stderr.write(`peers: ${TASKS} no-op tasks, ${IN_FLIGHT} in flight, ${ROUNDS} round(s), ${os.availableParallelism()} CPUs, load ${loadNow()}\n`);

/** One round: every peer once, plain BullMQ and BullMQ mode back to back on the same Redis. */
async function round(): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(await measure(() => runEmbedded(TASKS, IN_FLIGHT), 'n/a (sql.js journal, fsync per group commit)'));
  for (const fsync of ['always', 'everysec'] as const) {
    const redis = await RedisServer.start({ appendonly: true, appendfsync: fsync });
    try {
      rows.push(await measure(() => runPlainBullmq(redis.url, TASKS, IN_FLIGHT), fsync, redis.pid));
      rows.push(await measure(() => runBullmqMode(redis.url, TASKS, IN_FLIGHT), fsync, redis.pid));
    } finally {
      await redis.dispose();
    }
  }
  return rows;
}

const find = (rows: Row[], peer: string, fsync?: AppendFsync) => rows.find((r) => r.peer === peer && (fsync === undefined || r.fsync === fsync))!;
const ratio = (a: Row, b: Row) => a.tasksPerSecond / b.tasksPerSecond;
/** Ratios within one round: each pair measured minutes apart at most, on the same Redis. */
const ratiosOf = (rows: Row[]) => ({
  embeddedVsPlainAlways: ratio(find(rows, 'embedded engine'), find(rows, 'plain BullMQ', 'always')),
  embeddedVsPlainEverysec: ratio(find(rows, 'embedded engine'), find(rows, 'plain BullMQ', 'everysec')),
  bullmqModeVsPlainAlways: ratio(find(rows, 'orchestr8 BullMQ mode', 'always'), find(rows, 'plain BullMQ', 'always')),
  bullmqModeVsPlainEverysec: ratio(find(rows, 'orchestr8 BullMQ mode', 'everysec'), find(rows, 'plain BullMQ', 'everysec')),
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU ms per task of all of a peer's processes together, Redis's included. */
const cpuMsPerTaskAll = (r: Row) => (Object.values(r.cpu).reduce((a, s) => a + s, 0) * 1000) / r.tasks;
/** Tasks/s a peer could reach at most if the machine's cores did nothing but its CPU work. */
const cpuCeiling = (cpuMs: number) => (os.availableParallelism() * 1000) / cpuMs;
/**
 * Why BullMQ mode stays below plain BullMQ on this machine, from the CPU each process spent in
 * the same round (at appendfsync always). The coordinator does the embedded engine's durable
 * work for every task plus a BullMQ producer's, and its jobs still need a worker and Redis, so
 * BullMQ mode cannot spend less CPU per task than the embedded engine's process and plain
 * BullMQ's three processes together (`floorCpuMs`). On cores the peers share, the ratio it can
 * reach is bounded by plain BullMQ's CPU per task over that floor, whatever the queue adapter does.
 */
const cpuBoundOf = (rows: Row[]) => {
  const embedded = find(rows, 'embedded engine');
  const plain = find(rows, 'plain BullMQ', 'always');
  const mode = find(rows, 'orchestr8 BullMQ mode', 'always');
  const perTask = (r: Row, process: string) => ((r.cpu[process] ?? Number.NaN) * 1000) / r.tasks;
  const floorCpuMs = perTask(embedded, 'engine') + cpuMsPerTaskAll(plain);
  return {
    bullmqModeCpuMs: cpuMsPerTaskAll(mode),
    plainCpuMs: cpuMsPerTaskAll(plain),
    embeddedEngineCpuMs: perTask(embedded, 'engine'),
    coordinatorOverEmbeddedCpuMs: perTask(mode, 'coordinator') - perTask(embedded, 'engine'),
    floorCpuMs,
    bullmqModeCeilingTasksPerSec: cpuCeiling(cpuMsPerTaskAll(mode)),
    floorCeilingTasksPerSec: cpuCeiling(floorCpuMs),
    /** Plain BullMQ's CPU per task over BullMQ mode's: the ratio both would show if CPU-bound on the same cores. */
    cpuRatioVsPlainAlways: cpuMsPerTaskAll(plain) / cpuMsPerTaskAll(mode),
    /** The same with BullMQ mode at its floor: the most any change outside the engine's durable work could reach. */
    bestRatioVsPlainAlways: cpuMsPerTaskAll(plain) / floorCpuMs,
  };
};

const rounds: Row[][] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round());
const roundRatios = rounds.map(ratiosOf);
type Ratios = ReturnType<typeof ratiosOf>;
const ratios = Object.fromEntries(Object.keys(roundRatios[0]!).map((k) => [k, median(roundRatios.map((x) => x[k as keyof Ratios]))])) as Ratios;
/** Per peer, the round with the median tasks/s (so its latency and CPU figures belong together). */
const rows = rounds[0]!.map((first) => {
  const mine = rounds.map((rs) => find(rs, first.peer, first.fsync === 'always' || first.fsync === 'everysec' ? first.fsync : undefined));
  const m = median(mine.map((x) => x.tasksPerSecond));
  return mine.find((x) => x.tasksPerSecond === m)!;
});
/** From the round whose BullMQ-mode ratio is the median one. */
const cpuBound = cpuBoundOf(rounds[roundRatios.findIndex((x) => x.bullmqModeVsPlainAlways === ratios.bullmqModeVsPlainAlways)] ?? rounds[0]!);
const targets = [
  target('embedded durable no-op completions/s, 100 in flight, vs plain BullMQ at appendfsync always', ratios.embeddedVsPlainAlways, '≥', 1.5, '×'),
  target('BullMQ mode vs plain BullMQ at appendfsync always, same run (no less than 0.6×)', ratios.bullmqModeVsPlainAlways, '≥', 0.75, '×'),
];
/** The engine's own process by thread (embedded engine, BullMQ-mode coordinator). */
const engineThreads = (r: Row) =>
  r.engineThreads ? `${r.engineThreads.main.toFixed(2)} / ${r.engineThreads.workers.toFixed(2)} / ${r.engineThreads.other.toFixed(2)}` : '';
const lines = [
  `Measured ${new Date().toISOString()} on ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${TASKS} no-op tasks, ${IN_FLIGHT} in flight, ${ROUNDS} round(s)${ROUNDS > 1 ? ' (each peer: its median round; ratios: median of the per-round ratios)' : ''}.`,
  '',
  '| peer | Redis appendfsync | tasks/s | enqueue→start p50 (ms) | p99 (ms) | CPU ms per task | engine process by thread: main / workers / other | load avg before → after |',
  '| --- | --- | ---: | ---: | ---: | --- | --- | --- |',
  ...rows.map((r) => `| ${r.peer} | ${r.fsync} | ${r.tasksPerSecond.toFixed(0)} | ${r.p50} | ${r.p99} | ${cpuPerTask(r)} | ${engineThreads(r)} | ${r.load} |`),
  '',
  `- embedded / plain BullMQ at always: **${ratios.embeddedVsPlainAlways.toFixed(2)}×** (target ≥ 1.5×); at everysec: ${ratios.embeddedVsPlainEverysec.toFixed(2)}×`,
  `- BullMQ mode / plain BullMQ at always: **${ratios.bullmqModeVsPlainAlways.toFixed(2)}×**; at everysec: **${ratios.bullmqModeVsPlainEverysec.toFixed(2)}×** (target ≥ 0.75×)`,
  `- CPU bound at always (ms per task, all processes): BullMQ mode ${cpuBound.bullmqModeCpuMs.toFixed(2)} (ceiling ${cpuBound.bullmqModeCeilingTasksPerSec.toFixed(0)} tasks/s on ${os.availableParallelism()} cores), plain BullMQ ${cpuBound.plainCpuMs.toFixed(2)}: ${cpuBound.cpuRatioVsPlainAlways.toFixed(2)}× by CPU; ` +
    `the coordinator spends ${cpuBound.coordinatorOverEmbeddedCpuMs.toFixed(2)} ms more than the embedded engine (${cpuBound.embeddedEngineCpuMs.toFixed(2)}); ` +
    `floor = embedded engine + plain BullMQ's processes = ${cpuBound.floorCpuMs.toFixed(2)} ms → at most ${cpuBound.floorCeilingTasksPerSec.toFixed(0)} tasks/s, **${cpuBound.bestRatioVsPlainAlways.toFixed(2)}×** plain BullMQ by CPU even if BullMQ mode cost nothing beyond that`,
  ...(ROUNDS > 1
    ? [
        `- per round, BullMQ mode / plain at always: ${roundRatios.map((x) => x.bullmqModeVsPlainAlways.toFixed(2)).join(', ')}; embedded / plain at always: ${roundRatios.map((x) => x.embeddedVsPlainAlways.toFixed(2)).join(', ')}`,
      ]
    : []),
  '',
  targetsTable(targets),
  ...(loadWarning() ? ['', loadWarning()!] : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
const asJson = (r: Row) => ({
  peer: r.peer,
  appendfsync: r.fsync,
  tasksPerSec: r.tasksPerSecond,
  seconds: r.seconds,
  enqueueToStartMs: { p50: r.p50, p99: r.p99 },
  cpuMsPerTask: Object.fromEntries(Object.entries(r.cpu).map(([name, seconds]) => [name, (seconds * 1000) / r.tasks])),
  engineProcessCpuMsPerTaskByThread: r.engineThreads ?? null,
  loadAvg: r.load,
});
const file = writeBenchArtifact('peers', {
  settings: { tasks: TASKS, inFlight: IN_FLIGHT, rounds: ROUNDS },
  peers: rows.map(asJson),
  ratios,
  cpuBound,
  rounds: rounds.map((rs, i) => ({ ratios: roundRatios[i], peers: rs.map(asJson) })),
  targets,
});
process.stderr.write(`figures: ${file}\n`);
process.exit(0);
