import { readdirSync, readFileSync } from 'node:fs';

/** A process as Linux's /proc/PID/stat shows it: state letter (R, S, T stopped, Z zombie…) and process group. */
export interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
}

/** The process's /proc/PID/stat, or undefined once it is gone (Linux only, as the suite's CI). */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after its last ')'.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, state: state!, pgrp: Number(pgrp) };
}

/** Pids of the processes in group `pgid` that can still act (zombies waiting to be reaped cannot). */
export function liveInGroup(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => procStat(Number(entry)))
    .filter((p): p is ProcStat => p !== undefined && p.pgrp === pgid && p.state !== 'Z' && p.state !== 'X')
    .map((p) => p.pid);
}
