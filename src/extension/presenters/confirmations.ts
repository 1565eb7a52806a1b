import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { dependentsOf } from '../../core/scheduler/run-progress.ts';
import { shortRunId } from './format.ts';

/**
 * The tasks a retry puts back into play, as `Engine.retry` picks them: the run's (or the task's and
 * its dependents') failed, cancelled and skipped tasks. Read before the retry, for its confirmation.
 */
export function retryScope(tasks: readonly TaskRecord[], taskId?: string): TaskRecord[] {
  const target = taskId ? tasks.find((t) => t.id === taskId) : undefined;
  const scope = target ? new Set([target.key, ...dependentsOf(target.key, tasks)]) : undefined;
  return tasks.filter((t) => (!scope || scope.has(t.key)) && (t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped'));
}

/** "Retrying check, deploy of e2e-fail (run 4f2c…)": says what restarted, so a click is never a guess. */
export function retryMessage(run: RunRecord, restarted: readonly TaskRecord[]): string {
  const names = restarted.map((t) => t.name || t.key);
  const what = run.single || !names.length ? '' : names.length <= 3 ? `${names.join(', ')} of ` : `${names.length} tasks of `;
  return `Orchestr8: retrying ${what}${run.name} (run ${shortRunId(run.id)}).`;
}

/** The question "Clear Finished Runs" asks before removing anything. */
export function clearFinishedQuestion(counts: { completed: number; failed: number; cancelled: number }): string {
  const total = counts.completed + counts.failed + counts.cancelled;
  const parts = [
    [counts.completed, 'completed'],
    [counts.failed, 'failed'],
    [counts.cancelled, 'cancelled'],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, what]) => `${n} ${what}`);
  return (
    `Remove ${total} finished run${total === 1 ? '' : 's'} (${parts.join(', ')}) from the history, with their logs and results? ` +
    'Running runs stay; their branches and pull requests stay too.'
  );
}
