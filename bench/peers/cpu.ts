import { processCpuMs } from '../thread-cpu.ts';

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  return processCpuMs(pid) / 1000;
}
