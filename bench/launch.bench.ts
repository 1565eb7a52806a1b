/**
 * `npm run bench:launch`: launch latency at 1 in flight (each launch durable before it resolves)
 * against this disk's own floors, sampled one by one between the launches (a burst of other I/O
 * on the machine lands on all three alike): a write of a launch's size + `fdatasync` done
 * synchronously, and the same write through the thread pool to an O_DSYNC file, the journal's own
 * path (the engine may not block its thread on the disk). The ratios say how far above the disk,
 * and above the disk plus the pool's hand-overs, the launch is. `npm run bench` measures the
 * launch beside its other rows; this one runs in a minute.
 * Env: LAUNCH_ROUNDS (5), LAUNCH_TASKS (1000 per round). Writes artifacts/bench/launch.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchArtifact } from './artifacts.ts';
import { LAUNCH_COMMIT_BYTES, diskFloorSampler } from './disk-floor.ts';
import { openEngine } from './history.ts';

const ROUNDS = Number(process.env.LAUNCH_ROUNDS ?? 5);
const TASKS = Number(process.env.LAUNCH_TASKS ?? 1000);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o8-launch-'));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantiles = (xs: number[]) => ({ p50: pct(xs, 50), p99: pct(xs, 99) });

type Round = { launch: { p50: number; p99: number }; disk: { p50: number; p99: number }; pool: { p50: number; p99: number } };

/** `n` single no-op tasks one after the other, each launched when the one before has completed, each after one sample of both floors. */
async function round(n: number): Promise<{ launch: number[]; disk: number[]; pool: number[] }> {
  const stateDir = tmp();
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 1 });
  const floor = diskFloorSampler();
  const launch: number[] = [];
  const disk: number[] = [];
  const pool: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      disk.push(floor.sync());
      pool.push(await floor.pool());
      const completed = new Promise<void>((resolve) => {
        const listener = engine.onEvent((e) => e.type === 'workflow.completed' && (listener.dispose(), resolve()));
      });
      const t = performance.now();
      await engine.launch({ task: { action: { kind: 'noop' } } });
      launch.push(performance.now() - t);
      await completed;
    }
  } finally {
    floor.close();
    await engine.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  return { launch, disk, pool };
}

const f = (n: number) => n.toFixed(3);
console.log(
  `launch bench: ${ROUNDS} rounds of ${TASKS} launches at 1 in flight, each after one raw ${LAUNCH_COMMIT_BYTES}-byte write + fdatasync and one O_DSYNC write through the pool; load ${os.loadavg()[0]!.toFixed(2)}`,
);
const rounds: Round[] = [];
const all = { launch: [] as number[], disk: [] as number[], pool: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  const samples = await round(TASKS);
  for (const k of ['launch', 'disk', 'pool'] as const) all[k].push(...samples[k]);
  const x: Round = { launch: quantiles(samples.launch), disk: quantiles(samples.disk), pool: quantiles(samples.pool) };
  rounds.push(x);
  console.log(
    `round ${r + 1}: launch p50 ${f(x.launch.p50)} p99 ${f(x.launch.p99)} ms; disk p50 ${f(x.disk.p50)} p99 ${f(x.disk.p99)} ms; ` +
      `pool write p50 ${f(x.pool.p50)} p99 ${f(x.pool.p99)} ms; p99 ratio to disk ${(x.launch.p99 / x.disk.p99).toFixed(2)}×, to pool write ${(x.launch.p99 / x.pool.p99).toFixed(2)}×`,
  );
}
const summary = {
  launchMs: { p50: median(rounds.map((x) => x.launch.p50)), p99: median(rounds.map((x) => x.launch.p99)) },
  rawFdatasyncMs: { p50: median(rounds.map((x) => x.disk.p50)), p99: median(rounds.map((x) => x.disk.p99)) },
  poolDsyncWriteMs: { p50: median(rounds.map((x) => x.pool.p50)), p99: median(rounds.map((x) => x.pool.p99)) },
  p99Ratio: median(rounds.map((x) => x.launch.p99 / x.disk.p99)),
  p50Ratio: median(rounds.map((x) => x.launch.p50 / x.disk.p50)),
  p99RatioToPool: median(rounds.map((x) => x.launch.p99 / x.pool.p99)),
  p50RatioToPool: median(rounds.map((x) => x.launch.p50 / x.pool.p50)),
  pooled: { launchP99Ms: pct(all.launch, 99), rawFdatasyncP99Ms: pct(all.disk, 99), poolDsyncWriteP99Ms: pct(all.pool, 99) },
};
console.log(
  `median of rounds: launch p50 ${f(summary.launchMs.p50)} p99 ${f(summary.launchMs.p99)} ms; disk p50 ${f(summary.rawFdatasyncMs.p50)} p99 ${f(summary.rawFdatasyncMs.p99)} ms; ` +
    `pool write p50 ${f(summary.poolDsyncWriteMs.p50)} p99 ${f(summary.poolDsyncWriteMs.p99)} ms`,
);
console.log(
  `launch / disk: p50 ${summary.p50Ratio.toFixed(2)}×, p99 ${summary.p99Ratio.toFixed(2)}×; launch / pool write: p50 ${summary.p50RatioToPool.toFixed(2)}×, p99 ${summary.p99RatioToPool.toFixed(2)}× (target: launch p99 ≤ 2 ms)`,
);
console.log(
  `load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const file = writeBenchArtifact('launch', { settings: { rounds: ROUNDS, tasks: TASKS, bytes: LAUNCH_COMMIT_BYTES }, rounds, ...summary });
console.log(`figures: ${path.relative(process.cwd(), file)}`);
process.exit(0);
