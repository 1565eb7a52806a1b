import { rm } from 'node:fs/promises';
import type { RunRecord } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import type { Logger } from '../util/logger.ts';
import { commitsAhead, git, listWorktrees, removeWorktree } from './git-workspace.ts';
import type { GitTurns } from './git-turns.ts';
import { mergeInProgress, removeTaskWorktree } from './task-worktrees.ts';
import { runTasksDir } from './worktree-paths.ts';

/** What the clean-up of a finished run needs: where worktrees live, the worktrees' turns, a logger. */
export interface CleanupContext {
  worktreeRoot: string;
  turns: GitTurns;
  logger: Logger;
}

/**
 * A run that committed nothing (on its branch or any task's) leaves neither worktree nor
 * branch behind: hundreds of such runs would fill the user's branch list. True when removed.
 */
export async function removeIfUnchanged(ctx: CleanupContext, run: RunRecord, state: RunDelivery): Promise<boolean> {
  const { repoRoot, branch, baseSha, worktree } = state;
  if (!repoRoot || !branch || !baseSha || !worktree) return false;
  const g = git(repoRoot);
  // Listed in the worktree's turn: a task worktree being made for a task cancelled as it
  // started (prepareTask holds the turn) is on the list once it exists.
  return ctx.turns.serial(worktree, async () => {
    const branches = (await g.raw(['for-each-ref', '--format=%(refname:short)', `refs/heads/${branch}`, `refs/heads/${branch}--*`]))
      .split('\n')
      .filter(Boolean);
    if (!branches.includes(branch)) return false;
    for (const b of branches) if ((await commitsAhead(repoRoot, baseSha, b)) > 0) return false;
    for (const b of branches) if (b !== branch) await removeTaskWorktree(repoRoot, b);
    await removeWorktree(repoRoot, worktree);
    await g.raw(['branch', '-D', branch]);
    await rm(runTasksDir(ctx.worktreeRoot, run), { recursive: true, force: true });
    ctx.logger.info(`run ${run.id}: changed nothing; removed its worktree and branch ${branch}`);
    return true;
  });
}

/** Task worktrees of a finished run that hold no work of their own (failed attempts) go; conflicted ones stay for the user. */
export async function removeIdleTaskWorktrees(ctx: CleanupContext, state: RunDelivery): Promise<void> {
  const { repoRoot, branch, worktree } = state;
  if (!repoRoot || !branch || !worktree) return;
  await ctx.turns.serial(worktree, async () => {
    const head = (
      await git(repoRoot)
        .raw(['rev-parse', '-q', '--verify', `refs/heads/${branch}`])
        .catch(() => '')
    ).trim();
    if (!head) return;
    for (const w of await listWorktrees(repoRoot)) {
      if (!w.branch?.startsWith(`${branch}--`)) continue;
      if ((await commitsAhead(repoRoot, head, w.branch)) === 0 && !(await mergeInProgress(w.path))) {
        await removeTaskWorktree(repoRoot, w.branch);
      }
    }
  });
}
