// The crash harness: kills an engine child (crash-child.ts) again and again on one state folder, at
// random moments and at the moments where durability could break, checks after every kill that
// every transition ever acknowledged is still on disk, and at the end that a new owner finishes
// every run without failing a task. Used by test/core/crash.test.ts and scripts/crash-loop.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { Engine } from '../../src/core/engine/engine.ts';
import type { TaskRecord } from '../../src/core/model/records.ts';
import { isTerminal } from '../../src/core/model/task-state.ts';
import { MAX_STALLS } from '../../src/core/scheduler/task-machine.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import type { CrashPointName } from '../../src/core/util/crash-points.ts';
import type { Logger } from '../../src/core/util/logger.ts';

/**
 * Where a kill is aimed. `random`: the harness kills the child after a random amount of work.
 * `snapshot.folding`: the harness kills it while the snapshot worker folds segments. The others
 * arm the crash point of that name, and the child kills itself there.
 */
export type CrashMoment = 'random' | 'snapshot.folding' | AimedPoint;

/** The crash points the harness aims at: those of the journal, the snapshot and a run's finish. */
type AimedPoint = Extract<
  CrashPointName,
  'snapshot.renamed' | 'snapshot.sidecar-written' | 'segments.dropping' | 'journal.rotated' | 'deferred.apply' | 'run.finishing'
>;

/** Every moment, in the order kills cycle through them. */
export const CRASH_MOMENTS: readonly CrashMoment[] = [
  'random',
  'snapshot.folding',
  'snapshot.renamed',
  'snapshot.sidecar-written',
  'segments.dropping',
  'journal.rotated',
  'deferred.apply',
  'run.finishing',
];

/** Crash points are armed for their Nth hit, N drawn up to this, so kills land at different depths of the work. */
const POINT_MAX_HIT: Record<AimedPoint, number> = {
  'snapshot.renamed': 3,
  'snapshot.sidecar-written': 3,
  'segments.dropping': 3,
  'journal.rotated': 3,
  'deferred.apply': 30,
  'run.finishing': 20,
};

/** A child still alive this long after it started working missed its moment; the harness kills it (counted as a miss). */
const MOMENT_WAIT_MS = 10_000;
/** Opening a large state folder takes a while on a loaded machine; longer than this is a hang. */
const READY_WAIT_MS = 60_000;
/** The final owner must finish every run within this. */
const RECOVERY_WAIT_MS = 180_000;

export interface CrashHarnessOptions {
  kills: number;
  /** The state folder the children share (the harness fills it). */
  stateDir: string;
  /** Working folder of the runs. */
  cwd: string;
  /** Seed of the schedule (moments' parameters); the timing itself is the machine's. */
  seed?: number;
  /** Called after each kill has been checked. */
  onKill?: (kill: KillReport) => void;
  /** Where the state folder of a failed harness is copied (default: a fresh folder under the OS temp dir). */
  keepFailedStateIn?: string;
}

/** One kill, as the harness saw it. */
export interface KillReport {
  index: number;
  moment: CrashMoment;
  /** ORCHESTR8_CRASH_AT given to the child, if any. */
  armed?: string;
  /** The kill happened at its moment (for crash points: the child died by its own SIGKILL). */
  landed: boolean;
  /** Transitions the child acknowledged before it died. */
  acknowledged: number;
  /** From spawning the child to its engine being open (recovery of the state included). */
  startMs: number;
  /** Reading the state back and checking every acknowledged transition. */
  checkMs: number;
  ms: number;
}

/** What a harness run did. */
export interface CrashFigures {
  seed: number;
  kills: number;
  /** Transitions acknowledged by the children, each checked after every later kill and at the end. */
  acknowledged: number;
  /** Per moment: kills aimed at it, and how many landed there. */
  moments: Record<CrashMoment, { aimed: number; landed: number }>;
  /** Kills that landed while a snapshot was being made (folded or renamed into place). */
  inSnapshot: number;
  /** Kills that landed while folded segments were being removed. */
  inSegmentRemoval: number;
  /** Tasks interrupted by the kills and resumed (task.interrupted in the state), and the most times one task was. */
  interruptions: number;
  mostInterruptions: number;
  /** Tasks the kills stalled past the engine's bound (MAX_STALLS), failed by it as designed (their runs end failed). */
  failedByBound: number;
  /** Runs and tasks the final owner found, all completed. */
  runs: number;
  tasks: number;
  recoveryMs: number;
  ms: number;
}

/** The harness found a broken promise; `story` says what, where and with which evidence. */
export class CrashHarnessFailure extends Error {
  constructor(
    message: string,
    readonly story: string,
    /** Copy of the state folder as the failure found it. */
    readonly savedStateDir: string | undefined,
    readonly figures: CrashFigures,
  ) {
    super(`${message}\n${story}${savedStateDir ? `\nstate folder copied to ${savedStateDir}` : ''}`);
    this.name = 'CrashHarnessFailure';
  }
}

interface Acked {
  type: string;
  id: string;
  state: string;
}

interface ChildOutcome {
  acked: Acked[];
  startMs: number;
  landed: boolean;
  armed?: string;
  /** The last lines the child printed, and its stderr, for a story. */
  tail: string[];
  stderr: string;
  /** Why the child's death is not a crash the harness asked for, if it is not. */
  unexpected?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

/**
 * Bundles the child and the index worker once (esbuild, as esbuild.mjs bundles the shipped
 * ones), with sql.js's wasm beside them: a bundled child starts in a fraction of the time
 * `node --import tsx` takes, which is what makes hundreds of kills affordable.
 */
export async function bundleCrashChild(outDir: string): Promise<string> {
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: { 'crash-child': 'test/support/crash-child.ts', 'index-worker': 'src/core/store/index-worker/worker.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    logLevel: 'warning',
    external: ['vscode', 'esbuild'],
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
  });
  const require = createRequire(import.meta.url);
  fs.copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), path.join(outDir, 'sql-wasm.wasm'));
  return path.join(outDir, 'crash-child.cjs');
}

/** Runs the harness; resolves with its figures, or rejects with a CrashHarnessFailure. */
export async function runCrashHarness(options: CrashHarnessOptions): Promise<CrashFigures> {
  const started = Date.now();
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = mulberry32(seed);
  const figures: CrashFigures = {
    seed,
    kills: 0,
    acknowledged: 0,
    moments: Object.fromEntries(CRASH_MOMENTS.map((m) => [m, { aimed: 0, landed: 0 }])) as CrashFigures['moments'],
    inSnapshot: 0,
    inSegmentRemoval: 0,
    interruptions: 0,
    mostInterruptions: 0,
    failedByBound: 0,
    runs: 0,
    tasks: 0,
    recoveryMs: 0,
    ms: 0,
  };
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-crash-bundle-'));
  const failure = (message: string, story: string): CrashHarnessFailure => {
    figures.ms = Date.now() - started;
    const saved = saveStateDir(options.stateDir, options.keepFailedStateIn);
    return new CrashHarnessFailure(message, `${story}\n${describeStateDir(options.stateDir)}`, saved, figures);
  };
  try {
    const child = await bundleCrashChild(bundleDir);
    // Every transition any child acknowledged, counted by "type id": what the state must hold at least.
    const acknowledged = new Map<string, number>();
    const completedTasks = new Set<string>();
    const completedRuns = new Set<string>();
    for (let i = 0; i < options.kills; i++) {
      const moment = CRASH_MOMENTS[i % CRASH_MOMENTS.length]!;
      const killStarted = Date.now();
      const outcome = await runAndKill(child, options.stateDir, options.cwd, moment, random);
      const where = `kill ${i} (${moment}${outcome.armed ? `, armed ${outcome.armed}` : ''})`;
      if (outcome.unexpected) throw failure(`${where}: ${outcome.unexpected}`, childStory(outcome));
      figures.kills++;
      figures.moments[moment].aimed++;
      if (outcome.landed) {
        figures.moments[moment].landed++;
        if (moment === 'snapshot.folding' || moment === 'snapshot.renamed' || moment === 'snapshot.sidecar-written') figures.inSnapshot++;
        if (moment === 'segments.dropping') figures.inSegmentRemoval++;
      }
      for (const e of outcome.acked) {
        const key = `${e.type} ${e.id}`;
        acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1);
        if (e.type === 'task.completed') completedTasks.add(e.id);
        if (e.type === 'workflow.completed') completedRuns.add(e.id);
      }
      figures.acknowledged += outcome.acked.length;
      const checkStarted = Date.now();
      const check = await checkState(options.stateDir, acknowledged, completedTasks, completedRuns);
      if (check.problem) throw failure(`${where}: ${check.problem.message}`, `${check.problem.story}\n${childStory(outcome)}`);
      options.onKill?.({
        index: i,
        moment,
        ...(outcome.armed ? { armed: outcome.armed } : {}),
        landed: outcome.landed,
        acknowledged: outcome.acked.length,
        startMs: outcome.startMs,
        checkMs: Date.now() - checkStarted,
        ms: Date.now() - killStarted,
      });
    }

    const recoveryStarted = Date.now();
    const recovery = await recoverAll(options.stateDir, options.cwd, path.join(bundleDir, 'index-worker.cjs'));
    figures.recoveryMs = Date.now() - recoveryStarted;
    figures.runs = recovery.runs;
    figures.tasks = recovery.tasks;
    if (recovery.problem) throw failure(`after recovery: ${recovery.problem.message}`, recovery.problem.story);
    const check = await checkState(options.stateDir, acknowledged, completedTasks, completedRuns);
    if (check.problem) throw failure(`after recovery: ${check.problem.message}`, check.problem.story);
    figures.interruptions = check.interruptions;
    figures.mostInterruptions = check.mostInterruptions;
    figures.failedByBound = check.failedByBound;
    figures.ms = Date.now() - started;
    return figures;
  } finally {
    fs.rmSync(bundleDir, { recursive: true, force: true });
  }
}

/** Starts the child, kills it at `moment` (or lets its crash point do it), and says what happened. */
function runAndKill(script: string, stateDir: string, cwd: string, moment: CrashMoment, random: () => number): Promise<ChildOutcome> {
  const point = moment === 'random' || moment === 'snapshot.folding' ? undefined : moment;
  const armed = point ? `${point}:${1 + Math.floor(random() * POINT_MAX_HIT[point])}` : undefined;
  // Drawn here, whatever happens, so the schedule depends on the seed alone.
  const randomAfter = 1 + Math.floor(random() * 80);
  const randomDelay = random() * 300;
  const foldDelay = random() * 3;
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.ORCHESTR8_CRASH_AT;
    if (armed) env.ORCHESTR8_CRASH_AT = armed;
    const spawned = Date.now();
    const child = spawn(process.execPath, [script, stateDir, cwd], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const outcome: ChildOutcome = { acked: [], startMs: 0, landed: false, tail: [], stderr: '', ...(armed ? { armed } : {}) };
    let buffer = '';
    let killedByUs = false;
    let folding = false;
    let foldDone = false;
    let aimedAtFold = false;
    const timers: NodeJS.Timeout[] = [];
    const kill = (delay: number, why?: string) => {
      if (killedByUs) return;
      killedByUs = true;
      if (why) outcome.unexpected = why;
      timers.push(setTimeout(() => child.kill('SIGKILL'), delay));
    };
    timers.push(setTimeout(() => kill(0, `the child was not ready after ${READY_WAIT_MS / 1000} s`), READY_WAIT_MS));
    child.stderr.on('data', (chunk: Buffer) => {
      outcome.stderr = (outcome.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        outcome.tail.push(text);
        if (outcome.tail.length > 30) outcome.tail.shift();
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          continue; // not ours (a dependency printing); kept in the tail
        }
        if (line.error) kill(0, `the child reported an error: ${String(line.error)}`);
        if (line.type) outcome.acked.push(line as unknown as Acked);
        if (line.ready) {
          outcome.startMs = Date.now() - spawned;
          clearTimeout(timers[0]);
          // Timing starts once the child is doing work; a moment not reached by then is a miss.
          timers.push(setTimeout(() => kill(0), MOMENT_WAIT_MS));
        }
        if (line.snapshot === 'start') folding = true;
        if (line.snapshot === 'done') {
          folding = false;
          if (aimedAtFold && !killedByUs) foldDone = true;
        }
        if (moment === 'random' && outcome.acked.length === randomAfter) kill(randomDelay);
        if (moment === 'snapshot.folding' && folding && !aimedAtFold && outcome.acked.length > 30) {
          aimedAtFold = true;
          kill(foldDelay);
        }
      }
    });
    child.on('exit', (code, signal) => {
      for (const timer of timers) clearTimeout(timer);
      // Evidence, not intent: a fold kill landed if the fold had not finished when the child died;
      // a crash point landed if the child died of SIGKILL that the harness did not send.
      if (moment === 'random') outcome.landed = killedByUs;
      else if (moment === 'snapshot.folding') outcome.landed = aimedAtFold && folding && !foldDone;
      else outcome.landed = signal === 'SIGKILL' && !killedByUs;
      if (!outcome.unexpected && signal !== 'SIGKILL') outcome.unexpected = `the child exited by itself (code ${code}, signal ${signal})`;
      resolve(outcome);
    });
  });
}

interface StateCheck {
  /** The first acknowledged transition the state lacks, a failed task, or damage the reader stepped over. */
  problem?: { message: string; story: string };
  /** Interruptions recorded in the state (task.interrupted), and the most of them one task had. */
  interruptions: number;
  mostInterruptions: number;
  /** Tasks failed by the engine's bound on stalls (see failedByBound). */
  failedByBound: number;
}

/**
 * The engine resumes a task whose engine died under it MAX_STALLS times and fails it at the next
 * stall (so that a task that takes its engine down every time does not loop forever). Kills that
 * keep landing while the same task runs can reach that bound; the failed record carries the count
 * the engine went by.
 */
function failedByBound(task: TaskRecord): boolean {
  return task.state === 'failed' && (task.stalls ?? 0) > MAX_STALLS;
}

/** Reads the state as a new process would and names the first acknowledged transition it lacks. */
async function checkState(stateDir: string, acknowledged: Map<string, number>, completedTasks: Set<string>, completedRuns: Set<string>): Promise<StateCheck> {
  const errors: string[] = [];
  let reader: StateStore;
  try {
    reader = await StateStore.openReader(stateDir, { logger: collectingLogger(errors) });
  } catch (error) {
    return {
      problem: { message: `the state cannot be read: ${(error as Error).message}`, story: '' },
      interruptions: 0,
      mostInterruptions: 0,
      failedByBound: 0,
    };
  }
  try {
    const stored = new Map<string, number>();
    const interrupted = new Map<string, number>();
    const index = reader.index;
    const allEvents = await index.eventsAfter(0, Number.MAX_SAFE_INTEGER);
    for (const e of allEvents) {
      const key = `${e.type} ${e.taskId ?? e.runId}`;
      stored.set(key, (stored.get(key) ?? 0) + 1);
      if (e.type === 'task.interrupted') interrupted.set(e.taskId!, (interrupted.get(e.taskId!) ?? 0) + 1);
    }
    const counts = {
      interruptions: [...interrupted.values()].reduce((a, b) => a + b, 0),
      mostInterruptions: Math.max(0, ...interrupted.values()),
      failedByBound: 0,
    };
    const storyOf = async (id: string) => {
      const runId = id.split('.')[0]!;
      const events = allEvents.filter((e) => (e.runId ?? e.taskId?.split('.')[0]) === runId);
      return [
        `reader: last seq ${await index.lastSeq()}`,
        `run: ${JSON.stringify(await index.getRun(runId))}`,
        ...(await index.getTasks(runId)).map((t) => `task: ${JSON.stringify(t)}`),
        ...events.map((e) => `event: ${JSON.stringify(e)}`),
      ].join('\n');
    };
    const lost: { message: string; id: string }[] = [];
    for (const [key, count] of acknowledged) {
      const have = stored.get(key) ?? 0;
      if (have < count) lost.push({ message: `acknowledged "${key}" ${count}× but the state holds it ${have}×`, id: key.split(' ')[1]! });
    }
    for (const id of completedTasks) {
      const state = (await index.getTask(id))?.state;
      if (state !== 'completed') lost.push({ message: `${id} was acknowledged completed, now ${state ?? 'missing'}`, id });
    }
    for (const id of completedRuns) {
      const state = (await index.getRun(id))?.state;
      if (state !== 'completed') lost.push({ message: `run ${id} was acknowledged completed, now ${state ?? 'missing'}`, id });
    }
    // Every task of the load succeeds when left alone: a failed one (the owner that recovered it hears of it first, no child does)
    // is the work of the kills, and a defect unless the kills interrupted it past the engine's bound.
    for (const e of allEvents) {
      if (e.type !== 'task.failed') continue;
      const task = await index.getTask(e.taskId!);
      // The record's count, and as many interruptions before it recorded as events: the bound was reached, not miscounted.
      if (task && failedByBound(task) && (interrupted.get(task.id) ?? 0) >= MAX_STALLS) counts.failedByBound++;
      else lost.push({ message: `the kills made ${e.taskId} fail: ${task?.error ?? '(no error recorded)'}`, id: e.taskId! });
    }
    const logged = errors.length ? [`reading the state logged:`, ...errors.map((e) => `  ${e}`)] : [];
    if (lost.length) {
      const more = lost.length > 1 ? ` (and ${lost.length - 1} more lost)` : '';
      return { problem: { message: `${lost[0]!.message}${more}`, story: [...logged, await storyOf(lost[0]!.id)].join('\n') }, ...counts };
    }
    // Nothing lost to this reader, but it had to step over something it took for damage.
    if (errors.length) return { problem: { message: 'reading the state logged errors', story: logged.join('\n') }, ...counts };
    return counts;
  } finally {
    await reader.close();
  }
}

/** A new owner takes over after the last kill: every run must complete, none of its tasks failed by the kills. */
async function recoverAll(
  stateDir: string,
  cwd: string,
  indexWorker: string,
): Promise<{ runs: number; tasks: number; problem?: { message: string; story: string } }> {
  const errors: string[] = [];
  const engine = await Engine.open({ stateDir, cwd, concurrency: 8, indexWorker, logger: collectingLogger(errors) });
  try {
    const deadline = Date.now() + RECOVERY_WAIT_MS;
    while (Date.now() < deadline && engine.activeRunCount > 0) await new Promise((r) => setTimeout(r, 5));
    // Nothing the engine says may run ahead of what is durable: when it counts no active run, the state shows none running.
    const ahead = await engine.list({ limit: 1, states: ['running'] });
    if (engine.activeRunCount === 0 && ahead.total > 0) {
      const status = await engine.status(ahead.runs[0]!.id);
      const story = [`run: ${JSON.stringify(status.run)}`, ...status.tasks.map((t) => `task: ${JSON.stringify(t)}`)].join('\n');
      return {
        runs: 0,
        tasks: 0,
        problem: { message: `the engine counts no active run while the state shows ${ahead.total} running, ${status.run.id} among them`, story },
      };
    }
    const { runs } = await engine.list({ limit: Number.MAX_SAFE_INTEGER });
    let tasks = 0;
    for (const run of runs) {
      const status = await engine.status(run.id);
      tasks += status.tasks.length;
      const story = () => [`run: ${JSON.stringify(status.run)}`, ...status.tasks.map((t) => `task: ${JSON.stringify(t)}`)].join('\n');
      const unfinished = status.tasks.find((t) => !isTerminal(t.state));
      if (run.state === 'running' || unfinished) {
        return {
          runs: runs.length,
          tasks,
          problem: { message: `run ${run.id} left ${run.state}${unfinished ? `, ${unfinished.id} ${unfinished.state}` : ''}`, story: story() },
        };
      }
      // Every task of the load succeeds when left alone: anything else was done to it by a kill, and
      // only the stall bound may do it (the tasks after a task it failed are skipped).
      const bounded = status.tasks.some(failedByBound);
      const failed = status.tasks.find((t) => t.state !== 'completed' && !failedByBound(t) && !(bounded && t.state === 'skipped'));
      if (failed || (run.state !== 'completed' && !(bounded && run.state === 'failed'))) {
        const what = failed ? `${failed.id} ${failed.state}${failed.error ? `: ${failed.error}` : ''}` : `run ${run.id} ${run.state}`;
        return { runs: runs.length, tasks, problem: { message: `the kills made a task fail: ${what}`, story: story() } };
      }
    }
    if (engine.activeRunCount > 0) {
      return { runs: runs.length, tasks, problem: { message: `the engine counts ${engine.activeRunCount} active runs, the state none`, story: '' } };
    }
    if (errors.length) return { runs: runs.length, tasks, problem: { message: 'the recovering owner logged errors', story: errors.join('\n') } };
    return { runs: runs.length, tasks };
  } finally {
    await engine.close();
  }
}

function collectingLogger(errors: string[]): Logger {
  return { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string, e?: unknown) => errors.push(e ? `${m}: ${String(e)}` : m) };
}

function childStory(outcome: ChildOutcome): string {
  const lines = [`child's last lines:`, ...outcome.tail.map((l) => `  ${l}`)];
  if (outcome.stderr.trim())
    lines.push(
      `child's stderr:`,
      ...outcome.stderr
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  return lines.join('\n');
}

/**
 * The files as the failure left them, with their sizes (task logs aside): snapshot and journal
 * segment names carry the sequence numbers they start or end at, and the store's own layout
 * (docs/architecture.md) says what each one is.
 */
function describeStateDir(stateDir: string): string {
  const lines = ['state folder:'];
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
      const file = path.join(dir, name);
      const stat = fs.statSync(file);
      if (stat.isDirectory()) {
        if (name !== 'logs') walk(file, `${prefix}${name}/`);
      } else {
        lines.push(`  ${prefix}${name} ${stat.size} bytes`);
      }
    }
  };
  walk(stateDir, '');
  return lines.join('\n');
}

function saveStateDir(stateDir: string, into?: string): string | undefined {
  try {
    const target = into ?? fs.mkdtempSync(path.join(os.tmpdir(), 'o8-crash-failed-'));
    fs.cpSync(stateDir, target, { recursive: true });
    return target;
  } catch {
    return undefined;
  }
}

/** A small seeded generator, so a schedule can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
