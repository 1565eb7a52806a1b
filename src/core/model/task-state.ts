/**
 * Task and run states. Every move between task states happens in one named
 * method of `TaskMachine` (scheduler/task-machine.ts); this file only names them.
 */
export const TASK_STATES = [
  'pending', // waiting for its needs
  'queued', // ready; waiting for a concurrency slot (or for `notBefore` after a failed attempt)
  'running',
  'waiting', // a `wait` task waiting for its external signal
  'needs-input', // an attempt parked on a question to the user (a permission, its budget); checkpointed, spending nothing
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

/**
 * A run (one execution of a workflow) is derived from its tasks (see `deriveRunState`), except
 * `paused`: an unfinished run nobody may start tasks of until it resumes (the API's quota ran
 * out, or the user paused it); see moves.pauseRun.
 */
export const RUN_STATES = ['running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** The states of a run whose tasks are still in play. */
export function isRunActive(state: RunState): state is 'running' | 'paused' {
  return state === 'running' || state === 'paused';
}
