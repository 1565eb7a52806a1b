// `npm run bench:cli`: how long `orchestr8` takes before it answers, as a ratio to a bare
// `node -e 0` measured in the same rounds (the machine is shared; absolute times are noise).
//   --version                   (loads no engine)
//   launch with a live owner    (through the owner's local API)
//   status with 1,000 runs      (a read-only snapshot of the state)
//   cold launch (no owner yet)  (the request goes durably into the inbox; the id is printed
//                                before the background owner has opened the store)
// Medians over BENCH_ROUNDS (default 9) interleaved rounds. Writes artifacts/bench/cli.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/core/engine/engine.ts';
import { lockPath } from '../src/core/store/state-lock.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const HISTORY_RUNS = 1000;
const CLI = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
const SHIPPED_WORKER = fileURLToPath(new URL('../dist/index-worker.cjs', import.meta.url));
const TARGETS = { version: 1.5, launchLive: 3, status1000: 4, launchCold: 3 } as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A project folder outside any git repository, so runs work in place (no worktree per run). */
const project = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-clibench-'));
  fs.mkdirSync(path.join(dir, '.orchestr8'));
  return dir;
};

/** Wall time of one process from spawn to exit, in ms; fails the bench on a non-zero exit. */
function timed(args: string[], cwd: string): { ms: number; stdout: string } {
  const t = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

/** Waits until the background owner a cold launch started has taken its run and exited. */
async function ownerGone(stateDir: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const inbox = path.join(stateDir, 'inbox');
    const pending = fs.existsSync(inbox) && fs.readdirSync(inbox).some((f) => f.endsWith('.json'));
    if (!pending && !fs.existsSync(lockPath(stateDir))) return;
    await sleep(50);
  }
  throw new Error(`the background owner in ${stateDir} did not finish`);
}

/** A project whose state holds `runs` finished single-task runs, made through the real engine. */
async function projectWithHistory(runs: number): Promise<string> {
  const dir = project();
  const engine = await Engine.open({ stateDir: path.join(dir, '.orchestr8', 'state'), cwd: dir, concurrency: 50, indexWorker: SHIPPED_WORKER });
  let finished = 0;
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) await engine.launch({ task: { name: `history ${i}`, action: { kind: 'noop' } } });
  await done;
  await engine.close();
  return dir;
}

const history = await projectWithHistory(HISTORY_RUNS);
// The live owner: a background owner kept busy by a long task (launched cold, so it serves the API).
const live = project();
const longTask = timed([CLI, 'launch', '--run', 'sleep 600', '--json'], live);
const longRun = (JSON.parse(longTask.stdout) as { runId: string }).runId;
for (let i = 0; i < 100 && !fs.existsSync(path.join(live, '.orchestr8', 'state', 'api.json')); i++) await sleep(100);

const samples = { node: [] as number[], version: [] as number[], launchLive: [] as number[], status1000: [] as number[], launchCold: [] as number[] };
const coldDirs: string[] = [];
for (let round = 0; round < ROUNDS; round++) {
  samples.node.push(timed(['-e', '0'], history).ms);
  samples.version.push(timed([CLI, '--version'], history).ms);
  samples.launchLive.push(timed([CLI, 'launch', '--run', 'true'], live).ms);
  samples.status1000.push(timed([CLI, 'status'], history).ms);
  const cold = project();
  coldDirs.push(cold);
  samples.launchCold.push(timed([CLI, 'launch', '--run', 'true'], cold).ms);
  // Let the owner it started finish, so it does not load the next round.
  await ownerGone(path.join(cold, '.orchestr8', 'state'));
}

// Every cold launch ran, exactly once.
for (const dir of coldDirs) {
  const page = JSON.parse(timed([CLI, 'status', '--json'], dir).stdout) as { runs: { state: string }[] } | { state: string }[];
  const runs = Array.isArray(page) ? page : page.runs;
  if (runs.length !== 1 || runs[0]!.state !== 'completed') throw new Error(`cold launch in ${dir}: ${JSON.stringify(runs)}`);
}
spawnSync(process.execPath, [CLI, 'cancel', longRun], { cwd: live });

const base = median(samples.node);
const results = Object.fromEntries(
  (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).map((name) => {
    const ms = median(samples[name]);
    return [name, { medianMs: Math.round(ms), ratio: Number((ms / base).toFixed(2)), target: TARGETS[name], met: ms / base <= TARGETS[name] }];
  }),
);
const labels: Record<keyof typeof TARGETS, string> = {
  version: '--version',
  launchLive: 'launch, live owner',
  status1000: `status, ${HISTORY_RUNS} runs`,
  launchCold: 'launch, no owner yet',
};
console.log(`node -e 0: median ${Math.round(base)} ms over ${ROUNDS} rounds`);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${labels[name as keyof typeof TARGETS].padEnd(22)} ${String(r.medianMs).padStart(5)} ms  ${r.ratio.toFixed(2)}×  (target ≤ ${r.target}×) ${r.met ? 'met' : 'NOT MET'}`,
  );
}
const out = fileURLToPath(new URL('../artifacts/bench/cli.json', import.meta.url));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, nodeMs: Math.round(base), cpus: os.availableParallelism(), loadavg: os.loadavg(), results }, null, 2)}\n`,
);
for (const dir of [history, live, ...coldDirs]) fs.rmSync(dir, { recursive: true, force: true });
