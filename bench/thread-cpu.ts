/**
 * CPU time per thread of this process, for benches that must tell the engine's thread (the
 * main thread, the one the extension host shares) from the worker threads that take work off it.
 *
 * Node 20 has no `process.threadCpuUsage`, so this reads Linux's `/proc/self/task/<tid>/stat`
 * (utime + stime, in clock ticks: `getconf CLK_TCK`, 100 on most systems, i.e. 10 ms steps).
 * Measure over whole rounds of thousands of tasks, never per task.
 *
 * Which thread is which: the main thread's tid is the pid. Every other thread is called `node`
 * unless it names itself; `bench/thread-names.mjs` (loaded with `--import`, which worker threads
 * inherit) names each JavaScript worker thread `js-worker-<threadId>`, so those are told apart
 * from V8's platform threads (GC, compilation) and libuv's pool (fs, fsync, zlib).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** CPU milliseconds per thread group. */
export interface ThreadCpu {
  /** The engine's thread: the main JavaScript thread. */
  main: number;
  /** JavaScript worker threads (sql.js, snapshots), named by bench/thread-names.mjs. */
  workers: number;
  /** Every other thread: V8's platform threads (GC, JIT) and libuv's pool (fs, fdatasync). */
  other: number;
  /** The whole process, threads that ended meanwhile included (from /proc/self/stat). */
  process: number;
}

let ticks: number | undefined;
/** Clock ticks per second of /proc's utime and stime. */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a /proc stat file in ms, or undefined if it is gone (a thread that ended). */
function statCpuMs(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ') '.
  const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond();
}

/** CPU ms (user + system) a process has used so far, e.g. a child's; NaN if it is gone. */
export function processCpuMs(pid: number | 'self'): number {
  return statCpuMs(`/proc/${pid}/stat`) ?? Number.NaN;
}

/** Per-thread CPU of this process so far; false where /proc is not there (not Linux). */
export function sampleThreadCpu(): ThreadCpu | false {
  if (!fs.existsSync('/proc/self/task')) return false;
  const sample: ThreadCpu = { main: 0, workers: 0, other: 0, process: processCpuMs('self') };
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const ms = statCpuMs(`/proc/self/task/${tid}/stat`);
    if (ms === undefined) continue;
    if (Number(tid) === process.pid) sample.main += ms;
    else if (readComm(tid).startsWith('js-worker-')) sample.workers += ms;
    else sample.other += ms;
  }
  return sample;
}

function readComm(tid: string): string {
  try {
    return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * CPU used between two samples. A thread that ended in between is lost from its group (its
 * time stays in `process`), so the groups can add up to less than `process`.
 */
export function threadCpuSince(before: ThreadCpu | false, after = sampleThreadCpu()): ThreadCpu | false {
  if (!before || !after) return false;
  return {
    main: after.main - before.main,
    workers: Math.max(0, after.workers - before.workers),
    other: Math.max(0, after.other - before.other),
    process: after.process - before.process,
  };
}

/** Each group divided by `n` (e.g. CPU ms per task). */
export function perUnit(cpu: ThreadCpu, n: number): ThreadCpu {
  return { main: cpu.main / n, workers: cpu.workers / n, other: cpu.other / n, process: cpu.process / n };
}
