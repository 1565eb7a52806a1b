/**
 * `npm run bench:launch`: launch latency at 1 in flight (each launch durable before it resolves)
 * against this disk's own floor, one write of a launch's size + `fdatasync` done synchronously,
 * sampled in the same rounds (interleaved), so the ratio says how far above the disk the launch
 * is. `npm run bench` measures the same beside its other rows; this one runs in a minute.
 * Env: LAUNCH_ROUNDS (5), LAUNCH_TASKS (1000 per round). Writes artifacts/bench/launch.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchArtifact } from './artifacts.ts';
import { LAUNCH_COMMIT_BYTES, rawFdatasyncMs } from './disk-floor.ts';
import { openEngine } from './history.ts';

const ROUNDS = Number(process.env.LAUNCH_ROUNDS ?? 5);
const TASKS = Number(process.env.LAUNCH_TASKS ?? 1000);

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o8-launch-'));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;


/** `n` single no-op tasks one after the other: each launched when the one before has completed. */
async function launchesMs(n: number): Promise<number[]> {
  const stateDir = tmp();
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 1 });
  const ms: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const completed = new Promise<void>((resolve) => {
        const listener = engine.onEvent((e) => e.type === 'workflow.completed' && (listener.dispose(), resolve()));
      });
      const t = performance.now();
      await engine.launch({ task: { action: { kind: 'noop' } } });
      ms.push(performance.now() - t);
      await completed;
    }
  } finally {
    await engine.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  return ms;
}

const f = (n: number) => n.toFixed(3);
console.log(`launch bench: ${ROUNDS} rounds of ${TASKS} launches at 1 in flight, each beside ${TASKS} raw ${LAUNCH_COMMIT_BYTES}-byte write + fdatasync; load ${os.loadavg()[0]!.toFixed(2)}`);
const rounds: { disk: { p50: number; p99: number }; launch: { p50: number; p99: number } }[] = [];
const allDisk: number[] = [];
const allLaunch: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const disk = rawFdatasyncMs(TASKS);
  const launch = await launchesMs(TASKS);
  allDisk.push(...disk);
  allLaunch.push(...launch);
  const x = { disk: { p50: pct(disk, 50), p99: pct(disk, 99) }, launch: { p50: pct(launch, 50), p99: pct(launch, 99) } };
  rounds.push(x);
  console.log(`round ${r + 1}: launch p50 ${f(x.launch.p50)} p99 ${f(x.launch.p99)} ms; disk p50 ${f(x.disk.p50)} p99 ${f(x.disk.p99)} ms; p99 ratio ${(x.launch.p99 / x.disk.p99).toFixed(2)}×`);
}
const summary = {
  launchMs: { p50: median(rounds.map((x) => x.launch.p50)), p99: median(rounds.map((x) => x.launch.p99)) },
  rawFdatasyncMs: { p50: median(rounds.map((x) => x.disk.p50)), p99: median(rounds.map((x) => x.disk.p99)) },
  p99Ratio: median(rounds.map((x) => x.launch.p99 / x.disk.p99)),
  p50Ratio: median(rounds.map((x) => x.launch.p50 / x.disk.p50)),
  pooled: { launchP99Ms: pct(allLaunch, 99), rawFdatasyncP99Ms: pct(allDisk, 99) },
};
console.log(
  `median of rounds: launch p50 ${f(summary.launchMs.p50)} p99 ${f(summary.launchMs.p99)} ms; disk p50 ${f(summary.rawFdatasyncMs.p50)} p99 ${f(summary.rawFdatasyncMs.p99)} ms; ` +
    `launch / disk: p50 ${summary.p50Ratio.toFixed(2)}×, p99 ${summary.p99Ratio.toFixed(2)}× (target: launch p99 ≤ 2 ms)`,
);
console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const file = writeBenchArtifact('launch', { settings: { rounds: ROUNDS, tasks: TASKS, bytes: LAUNCH_COMMIT_BYTES }, rounds, ...summary });
console.log(`figures: ${path.relative(process.cwd(), file)}`);
process.exit(0);
