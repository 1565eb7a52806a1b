import type { TaskRecord } from '../model/records.ts';
import type { RunState } from '../model/task-state.ts';
import { isTerminal } from '../model/task-state.ts';

/** A need counts as met when it completed, or failed in a task marked continue_on_error. */
function needMet(need: TaskRecord): boolean {
  return need.state === 'completed' || (need.state === 'failed' && need.continueOnError);
}

/** A need that can never be met: its dependents are skipped. */
function needBroken(need: TaskRecord): boolean {
  return need.state === 'cancelled' || need.state === 'skipped' || (need.state === 'failed' && !need.continueOnError);
}

export type Readiness = { kind: 'ready' } | { kind: 'blocked' } | { kind: 'skip'; reason: string };

/** What a pending task should do given the current state of its needs. */
export function readiness(task: TaskRecord, byKey: ReadonlyMap<string, TaskRecord>): Readiness {
  let blocked = false;
  for (const key of task.needs) {
    const need = byKey.get(key);
    if (!need) return { kind: 'skip', reason: `unknown need ${key}` };
    if (needBroken(need)) return { kind: 'skip', reason: `needs ${key}, which ${need.state === 'failed' ? 'failed' : `was ${need.state}`}` };
    if (!needMet(need)) blocked = true;
  }
  return blocked ? { kind: 'blocked' } : { kind: 'ready' };
}

/**
 * A run's state follows from its tasks: running while any task is unfinished; then
 * failed if a task failed (without continue_on_error), cancelled if any was, else completed.
 */
export function deriveRunState(tasks: Iterable<TaskRecord>): Exclude<RunState, 'paused'> {
  let failed = false;
  let cancelled = false;
  for (const task of tasks) {
    if (!isTerminal(task.state)) return 'running';
    if (task.state === 'failed' && !task.continueOnError) failed = true;
    if (task.state === 'cancelled') cancelled = true;
  }
  return failed ? 'failed' : cancelled ? 'cancelled' : 'completed';
}

/** The keys of every task that (transitively) needs `key`. */
export function dependentsOf(key: string, tasks: Iterable<TaskRecord>): Set<string> {
  const children = new Map<string, string[]>();
  for (const task of tasks) for (const need of task.needs) children.set(need, [...(children.get(need) ?? []), task.key]);
  const out = new Set<string>();
  const stack = [key];
  while (stack.length) for (const child of children.get(stack.pop()!) ?? []) if (!out.has(child)) out.add(child), stack.push(child);
  return out;
}
