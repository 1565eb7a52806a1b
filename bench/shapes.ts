/**
 * Why `npm run bench` and `npm run bench:peers` disagree on the embedded engine: the same
 * engine, the same 10,000 no-op tasks at 100 in flight, in the two submission shapes, alternated
 * in rounds so both see the same machine:
 *
 * - `closed`: `npm run bench`'s shape, a new launch each time a run completes (100 outstanding),
 *   the engine choosing the run ids;
 * - `burst-ids`: `npm run bench:peers`'s shape, all 10,000 launched at once (10,000 runs open),
 *   each with an id the caller chose (which the engine checks against the history: a query);
 * - `burst`: all at once, the engine choosing the ids.
 *
 * Each is timed from the first launch to the last `workflow.completed` event, and also as the
 * peers bench does (first `queuedAt` to last `finishedAt` of the state of record), with the
 * group commits (durable writes), journal records and CPU per thread per task. With redis-server
 * each round also runs the baseline, plain BullMQ at appendfsync always, at SHAPES_TASKS and at
 * SHAPES_SHORT_TASKS (2,000: the size of the rounds `npm run bench` was run with), since the two
 * benches also timed that baseline on different task counts.
 *
 *   npm run build && node --import tsx --import ./bench/thread-names.mjs bench/shapes.ts
 *
 * Env: SHAPES_TASKS (10000), SHAPES_ROUNDS (3), SHAPES_IN_FLIGHT (100). Writes artifacts/bench/shapes.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../src/core/engine/engine.ts';
import { JournalWriter } from '../src/core/store/journal.ts';
import { newRunId } from '../src/core/util/ids.ts';
import { RedisServer, redisMissingReason } from '../test/support/redis-server.ts';
import { writeBenchArtifact } from './artifacts.ts';
import { openEngine } from './history.ts';
import { runPlainBullmq } from './peers/plain-peer.ts';
import { type ThreadCpu, perUnit, sampleThreadCpu, threadCpuSince } from './thread-cpu.ts';

const TASKS = Number(process.env.SHAPES_TASKS ?? 10_000);
const ROUNDS = Number(process.env.SHAPES_ROUNDS ?? 3);
const IN_FLIGHT = Number(process.env.SHAPES_IN_FLIGHT ?? 100);
const SHORT_TASKS = Number(process.env.SHAPES_SHORT_TASKS ?? 2000);

/** Counts the journal's group commits: one write made durable (write + fdatasync, or one O_DSYNC write) each. */
const syncs = { groupCommits: 0 };
{
  const proto = JournalWriter.prototype as unknown as { writeBatch(): Promise<void> };
  const writeBatch = proto.writeBatch;
  proto.writeBatch = function (this: unknown) {
    syncs.groupCommits++;
    return writeBatch.call(this);
  };
}

/** Journal records the engine committed so far (its store's `commit` counted; a bench-only peek at a private field). */
const committed = new WeakMap<Engine, { records: number }>();
function recordsCommitted(engine: Engine): number {
  let count = committed.get(engine);
  if (!count) {
    const counter = { records: 0 };
    count = counter;
    committed.set(engine, counter);
    const store = (engine as unknown as { store: { commit(records: unknown[]): Promise<number> } }).store;
    const commit = store.commit.bind(store);
    store.commit = (records) => ((counter.records += records.length), commit(records));
  }
  return count.records;
}

type Shape = 'closed' | 'burst-ids' | 'burst';
const SHAPES: Shape[] = ['closed', 'burst-ids', 'burst'];

interface ShapeRound {
  shape: Shape;
  /** First launch call to the last `workflow.completed` event (`npm run bench`'s definition). */
  tasksPerSec: number;
  /** First `queuedAt` to last `finishedAt` in the state of record (`npm run bench:peers`' definition). */
  tasksPerSecByRecords: number;
  groupCommitsPerTask: number;
  recordsPerTask: number;
  /** Appends (launches, moves) per group commit, on average. */
  tasksPerGroupCommit: number;
  cpuMsPerTask: ThreadCpu | false;
}

/** Runs the load; returns the run ids. */
async function run(engine: Engine, shape: Shape): Promise<string[]> {
  const chosen = shape === 'burst-ids' ? Array.from({ length: TASKS }, () => newRunId()) : undefined;
  const ids: string[] = [];
  let completed = 0;
  let launched = 0;
  await new Promise<void>((resolve, reject) => {
    const launchOne = () => {
      const id = chosen?.[launched];
      launched++;
      engine.launch({ ...(id ? { id } : {}), task: { action: { kind: 'noop' } } }).then((r) => ids.push(r.runId), reject);
    };
    engine.onEvent((e) => {
      if (e.type !== 'workflow.completed') return;
      if (++completed === TASKS) resolve();
      else if (shape === 'closed' && launched < TASKS) launchOne();
    });
    const first = shape === 'closed' ? IN_FLIGHT : TASKS;
    for (let i = 0; i < first; i++) launchOne();
  });
  return ids;
}

async function round(shape: Shape): Promise<ShapeRound> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-shapes-'));
  const engine = await openEngine({ stateDir: dir, cwd: dir, concurrency: IN_FLIGHT });
  try {
    const records0 = recordsCommitted(engine);
    const syncs0 = { ...syncs };
    const cpu0 = sampleThreadCpu();
    const start = performance.now();
    const ids = await run(engine, shape);
    const seconds = (performance.now() - start) / 1000;
    const cpu = threadCpuSince(cpu0);
    const groupCommits = syncs.groupCommits - syncs0.groupCommits;
    const records = recordsCommitted(engine) - records0;
    const tasks = (await Promise.all(ids.map((id) => engine.status(id)))).flatMap((s) => s.tasks);
    const first = Math.min(...tasks.map((t) => t.queuedAt!));
    const last = Math.max(...tasks.map((t) => t.finishedAt!));
    return {
      shape,
      tasksPerSec: TASKS / seconds,
      tasksPerSecByRecords: TASKS / ((last - first) / 1000),
      groupCommitsPerTask: groupCommits / TASKS,
      recordsPerTask: records / TASKS,
      tasksPerGroupCommit: TASKS / groupCommits,
      cpuMsPerTask: cpu && perUnit(cpu, TASKS),
    };
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 0) => n.toFixed(d);
console.log(`shapes: ${TASKS} no-op tasks, ${IN_FLIGHT} in flight, ${ROUNDS} rounds, load ${os.loadavg()[0]!.toFixed(2)}`);
const rounds: ShapeRound[] = [];
const redis = redisMissingReason() ? undefined : await RedisServer.start({ appendonly: true, appendfsync: 'always' });
/** Plain BullMQ tasks/s per round: at TASKS and at SHORT_TASKS. */
const plain: { tasks: number; tasksPerSec: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (redis) {
    for (const tasks of [TASKS, SHORT_TASKS]) {
      const x = await runPlainBullmq(redis.url, tasks, IN_FLIGHT);
      plain.push({ tasks, tasksPerSec: x.tasksPerSecond });
      console.log(`plain BullMQ (always), ${tasks} tasks: ${f(x.tasksPerSecond)} tasks/s`);
    }
  }
  for (const shape of SHAPES) {
    const x = await round(shape);
    rounds.push(x);
    const c = x.cpuMsPerTask;
    console.log(
      `${shape.padEnd(9)} ${f(x.tasksPerSec).padStart(6)} tasks/s (by records ${f(x.tasksPerSecByRecords)}), ${f(x.groupCommitsPerTask, 3)} group commits/task (${f(x.tasksPerGroupCommit, 1)} tasks per group commit), ${f(x.recordsPerTask, 2)} records/task` +
        (c ? `, CPU ms/task main ${f(c.main, 3)} workers ${f(c.workers, 3)} other ${f(c.other, 3)} process ${f(c.process, 3)}` : ''),
    );
  }
}
const summary = Object.fromEntries(
  SHAPES.map((shape) => {
    const mine = rounds.filter((r) => r.shape === shape);
    return [
      shape,
      {
        tasksPerSec: median(mine.map((r) => r.tasksPerSec)),
        tasksPerSecByRecords: median(mine.map((r) => r.tasksPerSecByRecords)),
        groupCommitsPerTask: median(mine.map((r) => r.groupCommitsPerTask)),
        recordsPerTask: median(mine.map((r) => r.recordsPerTask)),
      },
    ];
  }),
);
await redis?.dispose();
console.log(
  `median tasks/s: ${SHAPES.map((shape) => `${shape} ${f(summary[shape]!.tasksPerSec)}`).join(', ')}; burst-ids / closed ${f(summary['burst-ids']!.tasksPerSec / summary.closed!.tasksPerSec, 2)}`,
);
const plainMedian = (tasks: number) => (plain.some((p) => p.tasks === tasks) ? median(plain.filter((p) => p.tasks === tasks).map((p) => p.tasksPerSec)) : null);
const plainLong = plainMedian(TASKS);
const plainShort = plainMedian(SHORT_TASKS);
if (plainLong && plainShort) {
  console.log(
    `plain BullMQ (always): ${f(plainLong)} tasks/s at ${TASKS} tasks, ${f(plainShort)} at ${SHORT_TASKS}; closed / plain at ${TASKS}: ${f(summary.closed!.tasksPerSec / plainLong, 2)}×, burst-ids (by records, as bench:peers) / plain: ${f(summary['burst-ids']!.tasksPerSecByRecords / plainLong, 2)}×`,
  );
}
console.log(
  `load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const file = writeBenchArtifact('shapes', {
  settings: { tasks: TASKS, shortTasks: SHORT_TASKS, rounds: ROUNDS, inFlight: IN_FLIGHT },
  rounds,
  median: summary,
  plainBullmqAlways: { rounds: plain, tasksPerSec: plainLong, shortTasksPerSec: plainShort },
});
console.log(`figures: ${path.relative(process.cwd(), file)}`);
process.exit(0);
