import type { NotificationRecord, RunRecord, TaskRecord } from '../model/records.ts';
import { newId } from '../util/ids.ts';
import { formatDuration } from '../util/text-format.ts';

/** Human summary of a run's tasks: "3 completed, 1 failed, 2 skipped". */
export function summarizeTasks(tasks: Iterable<TaskRecord>): string {
  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/** The notification for a run that reached a final state. */
export function runFinishedNotification(run: RunRecord, tasks: TaskRecord[], now: number): NotificationRecord {
  const verb = run.state === 'completed' ? 'finished' : run.state;
  const failed = tasks.filter((t) => t.state === 'failed' && !t.continueOnError);
  const detail = failed.length ? ` · ${failed.map((t) => `${t.key}: ${t.error ?? 'failed'}`).join('; ')}` : '';
  return {
    id: newId(),
    runId: run.id,
    kind: run.state === 'completed' ? 'workflow.completed' : run.state === 'cancelled' ? 'workflow.cancelled' : 'workflow.failed',
    title: `${run.name} ${verb}`,
    body: `${summarizeTasks(tasks)} in ${formatDuration((run.finishedAt ?? now) - run.createdAt)}${detail}`.slice(0, 2000),
    createdAt: now,
  };
}

/** The notification for a task of a multi-task run that failed for good. */
export function taskFailedNotification(run: RunRecord, task: TaskRecord, now: number): NotificationRecord {
  return {
    id: newId(),
    runId: run.id,
    taskId: task.id,
    kind: 'task.failed',
    title: `${run.name}: ${task.name} failed`,
    body: (task.error ?? 'failed').slice(0, 2000),
    createdAt: now,
  };
}
