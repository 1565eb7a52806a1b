import { readdirSync, readFileSync } from 'node:fs';

/** A process as Linux's /proc/PID/stat shows it: state letter (R, S, T stopped, Z zombie…) and process group. */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
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
  const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, state: state!, ppid: Number(ppid), pgrp: Number(pgrp) };
}

function allProcesses(): ProcStat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => procStat(Number(entry)))
    .filter((p): p is ProcStat => p !== undefined);
}

/** Whether the process can still act (a zombie waiting to be reaped cannot). */
export function isLive(p: ProcStat | undefined): boolean {
  return p !== undefined && p.state !== 'Z' && p.state !== 'X';
}

/** Pids of the processes in group `pgid` that can still act. */
export function liveInGroup(pgid: number): number[] {
  return allProcesses()
    .filter((p) => p.pgrp === pgid && isLive(p))
    .map((p) => p.pid);
}

/** Pids of every process below `pid` now (children, theirs, …), whatever group or session they moved to. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allProcesses()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift()!) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}
