/**
 * Task and run states. Every move between task states happens in one named
 * method of `TaskMachine` (scheduler/task-machine.ts); this file only names them.
 */
export const TASK_STATES = [
  'pending', // waiting for its needs
  'queued', // ready; waiting for a concurrency slot (or for `notBefore` after a failed attempt)
  'running',
  'waiting', // a `wait` task waiting for its external signal
  'completed',
  'failed',
  'cancelled',
  'skipped', // a need failed or was cancelled, so it never ran
] as const;
export type TaskState = (typeof TASK_STATES)[number];

const TERMINAL = new Set<TaskState>(['completed', 'failed', 'cancelled', 'skipped']);
export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** A run (one execution of a workflow) is derived from its tasks; see `deriveRunState`. */
export const RUN_STATES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];
