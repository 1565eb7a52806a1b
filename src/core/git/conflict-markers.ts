import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { git } from './git-workspace.ts';

/**
 * A line git writes around a conflict hunk: `<<<<<<< ours`, `=======`, `>>>>>>> theirs`. The same
 * lines `filesWithConflictMarkers` refuses to commit, so what passes here passes the retry's check.
 */
const MARKER = /^(?:<{7}|>{7}) |^={7}\r?$/m;

/**
 * Which of `files` (relative to `worktree`) still hold conflict markers as they are on disk now,
 * before anything is staged: what a user who is resolving a merge by hand has left to do. Reads
 * only (unlike `filesWithConflictMarkers`, which stages). A file that is gone was resolved by
 * deleting it (a modify/delete conflict).
 */
export async function filesStillConflicted(worktree: string, files: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const file of files) {
    const text = await readFile(join(worktree, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    if (MARKER.test(text)) left.push(file);
  }
  return left;
}

/**
 * Marks a by-hand resolution done, as the merge editor's "Complete Merge" does: when none of
 * `files` has conflict markers left on disk, stages them all (a deleted one as deleted) so the
 * retry finds no unmerged path. Returns the files that still have markers, staging nothing then.
 * Without this, a file saved without its markers but not staged would still count as conflicted.
 */
export async function stageIfResolved(worktree: string, files: readonly string[]): Promise<string[]> {
  const left = await filesStillConflicted(worktree, files);
  if (!left.length && files.length) await git(worktree).raw(['add', '-A', '--', ...files]);
  return left;
}
