// `npm run bench:restart`: the restart figure of `npm run bench` alone, with more samples.
// Builds a history of BENCH_HISTORY tasks through the engine (runs of 100), then restarts the
// owner on it BENCH_RESTARTS times: open, one launch until it is durable (the figure), and the
// first query that needs the history (a list of every run). Then the same with the snapshots'
// active-set sidecars removed, which is the one-phase open (the full load before any work).
// Writes artifacts/bench/restart.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchArtifact } from './artifacts.ts';
import { buildHistory, openEngine } from './history.ts';
import { loadWarning } from './targets.ts';

const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const RESTARTS = Number(process.env.BENCH_RESTARTS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

interface Sample {
  openMs: number;
  firstLaunchMs: number;
  firstHistoryQueryMs: number;
}

async function restart(stateDir: string): Promise<Sample> {
  const start = performance.now();
  const engine = await openEngine({ stateDir, cwd: stateDir });
  const openMs = performance.now() - start;
  await engine.launch({ task: { action: { kind: 'noop' } } });
  const firstLaunchMs = performance.now() - start;
  const { total } = await engine.list({ limit: 1 });
  const firstHistoryQueryMs = performance.now() - start;
  if (total < HISTORY / 100) throw new Error(`only ${total} runs listed`);
  await engine.close();
  return { openMs, firstLaunchMs, firstHistoryQueryMs };
}

function summary(samples: Sample[]) {
  return {
    restartToFirstLaunchMs: { median: median(samples.map((s) => s.firstLaunchMs)), samples: samples.map((s) => s.firstLaunchMs) },
    openMs: { median: median(samples.map((s) => s.openMs)), samples: samples.map((s) => s.openMs) },
    firstHistoryQueryMs: { median: median(samples.map((s) => s.firstHistoryQueryMs)), samples: samples.map((s) => s.firstHistoryQueryMs) },
  };
}

const print = (label: string, s: ReturnType<typeof summary>) =>
  console.log(
    `${label}: first launch accepted ${fmt(s.restartToFirstLaunchMs.median)} ms (${s.restartToFirstLaunchMs.samples.map((x) => fmt(x)).join(', ')}); open ${fmt(s.openMs.median)} ms; first history query ${fmt(s.firstHistoryQueryMs.median)} ms`,
  );

console.log(
  `orchestr8 restart bench · node ${process.version} · ${os.cpus().length} cpus · load ${os.loadavg()[0]!.toFixed(2)} · ${HISTORY} tasks of history, ${RESTARTS} restarts`,
);
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-bench-restart-'));
try {
  const t = performance.now();
  await buildHistory(stateDir, HISTORY);
  console.log(`history built in ${fmt((performance.now() - t) / 1000)} s`);
  await restart(stateDir); // warm the page cache and the worker's code, as a reload finds them
  const twoPhase: Sample[] = [];
  for (let i = 0; i < RESTARTS; i++) twoPhase.push(await restart(stateDir));
  const two = summary(twoPhase);
  print('two-phase open', two);
  const onePhase: Sample[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    for (const name of fs.readdirSync(stateDir)) if (name.endsWith('.sqlite.active')) fs.rmSync(path.join(stateDir, name));
    onePhase.push(await restart(stateDir));
  }
  const one = summary(onePhase);
  print('one-phase open (sidecars removed: the full load first)', one);
  const snapshot = fs
    .readdirSync(stateDir)
    .filter((n) => n.endsWith('.sqlite'))
    .sort()
    .pop();
  const snapshotMb = snapshot ? fs.statSync(path.join(stateDir, snapshot)).size / 1e6 : 0;
  const busy = loadWarning();
  if (busy) console.log(busy);
  const file = writeBenchArtifact('restart', {
    settings: { historyTasks: HISTORY, restarts: RESTARTS },
    snapshotMb,
    twoPhase: two,
    onePhase: one,
    ...(busy ? { warning: busy } : {}),
  });
  console.log(`figures: ${path.relative(process.cwd(), file)}`);
} finally {
  fs.rmSync(stateDir, { recursive: true, force: true });
}
