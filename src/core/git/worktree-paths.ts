import { isAbsolute, join } from 'node:path';
import type { RunRecord, TaskRecord } from '../model/records.ts';

/** Folder beside the run's worktree holding its tasks' worktrees and saved outputs. */
export function runTasksDir(worktreeRoot: string, run: RunRecord): string {
  return join(worktreeRoot, `${run.id}-tasks`);
}

function taskSlug(task: TaskRecord): string {
  return task.key.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** Where a task's worktree lives: beside the run's, one folder per attempt (a retry starts clean). */
export function taskWorktreeDir(worktreeRoot: string, run: RunRecord, task: TaskRecord): string {
  return join(runTasksDir(worktreeRoot, run), `${taskSlug(task)}-${task.attempt}`);
}

/** The output a task had when its work was committed, kept for an attempt that finds the work done. */
export function taskOutputFile(worktreeRoot: string, run: RunRecord, task: TaskRecord): string {
  return join(runTasksDir(worktreeRoot, run), `${taskSlug(task)}.output.json`);
}

/** `rel` when it names a folder inside the one it is relative to ('' for that folder itself), else undefined. */
export function subPath(rel: string): string | undefined {
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel;
}
