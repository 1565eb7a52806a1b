import { isTaskTransition, type EngineEvent } from '../../core/model/events.ts';
import type { TaskRecord } from '../../core/model/records.ts';
import { isTerminal, type TaskState } from '../../core/model/task-state.ts';
import { runIdOf } from '../../core/util/ids.ts';

/** Unfinished tasks by state, as the status bar shows them. */
export interface TaskCounts {
  running: number;
  queued: number;
  waiting: number;
  pending: number;
}

/**
 * Keeps the state of every unfinished task, seeded once from the store and then moved by engine
 * events (each task event carries the task's record after the transition), so the status bar never
 * has to query the store while work is going on.
 */
export class ActiveTaskTracker {
  private readonly states = new Map<string, TaskState>();
  /** Tasks some event or seed has placed, finished or not; see `has`. */
  private readonly seen = new Set<string>();

  /** True when an event or seed already placed this task (its state then is newer than a query's). */
  has(taskId: string): boolean {
    return this.seen.has(taskId);
  }

  seed(tasks: readonly TaskRecord[]): void {
    for (const task of tasks) this.set(task);
  }

  /** True when the counts may have changed. */
  apply(event: EngineEvent): boolean {
    if (isTaskTransition(event)) return this.set(event.task);
    switch (event.type) {
      case 'workflow.launched':
        for (const task of event.tasks) this.set(task);
        return true;
      case 'workflow.removed': {
        let changed = false;
        const removed = new Set(event.runIds);
        for (const id of [...this.states.keys()]) {
          if (removed.has(runIdOf(id))) changed = this.states.delete(id) || changed;
        }
        return changed;
      }
      default:
        return false;
    }
  }

  counts(): TaskCounts {
    const counts: TaskCounts = { running: 0, queued: 0, waiting: 0, pending: 0 };
    for (const state of this.states.values()) {
      if (state === 'running' || state === 'queued' || state === 'waiting' || state === 'pending') counts[state]++;
    }
    return counts;
  }

  private set(task: TaskRecord): boolean {
    this.seen.add(task.id);
    const before = this.states.get(task.id);
    if (isTerminal(task.state)) return this.states.delete(task.id);
    this.states.set(task.id, task.state);
    return before !== task.state;
  }
}

export interface StatusBarView {
  visible: boolean;
  text: string;
  tooltip: string;
  /** Drawn as a warning (the storage is paused). */
  warning: boolean;
}

/**
 * The status bar item: hidden when nothing is running, queued or waiting for a signal, and
 * always shown, as a warning, while storage is paused (`pausedReason`: a full disk).
 */
export function statusBarView(counts: TaskCounts, readOnly = false, pausedReason?: string): StatusBarView {
  const parts: string[] = [];
  if (counts.running) parts.push(`${counts.running} running`);
  if (counts.queued) parts.push(`${counts.queued} queued`);
  if (counts.waiting) parts.push(`${counts.waiting} waiting`);
  const paused = pausedReason !== undefined;
  if (!parts.length && !paused) return { visible: false, text: '', tooltip: '', warning: false };
  const icon = paused ? '$(warning)' : counts.running ? '$(sync~spin)' : counts.queued ? '$(clock)' : '$(bell)';
  const tooltip = [
    paused ? `Disk full: new work is paused until space is freed; running tasks go on and their results are saved once it is.\n${pausedReason}` : '',
    parts.length ? `Orchestr8: ${parts.join(', ')}${counts.pending ? `, ${counts.pending} waiting for other tasks` : ''}` : '',
    readOnly ? 'Read-only: another VS Code window runs this workspace’s tasks.' : '',
    'Click to show the runs.',
  ].filter(Boolean);
  const text = [paused ? 'disk full, paused' : '', ...parts].filter(Boolean).join(' · ');
  return { visible: true, text: `${icon} ${text}`, tooltip: tooltip.join('\n'), warning: paused };
}
