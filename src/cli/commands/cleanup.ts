import { cleanupWorktrees, describeRemoval } from '../../core/git/worktree-cleanup.ts';
import { parseDuration } from '../../core/workflow/duration.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';
import { withReader } from '../state-reader.ts';
import { dim } from '../format.ts';

export interface CleanupOptions extends GlobalOptions {
  all?: boolean;
  /** Unmerged branches of runs finished longer ago than this go too (`30d`). */
  olderThan?: string;
}

/**
 * `orchestr8 cleanup [--all] [--older-than 30d]`: removes the worktrees and branches of finished
 * runs that are merged, applied or changed nothing (and the branches they pushed); with
 * `--older-than`, unmerged ones finished longer ago too; `--all` every finished run's worktree
 * (unmerged branches stay). Reads the run list from a snapshot, so it works whether or not
 * another process owns the state.
 */
export async function cleanupCommand(options: CleanupOptions): Promise<number> {
  const ctx = cliContext(options);
  const branchesOlderThanMs = options.olderThan ? parseDuration(options.olderThan) : undefined;
  return withReader(ctx, async (api) => {
    const outcome = await cleanupWorktrees(api, { all: options.all ?? false, ...(branchesOlderThanMs !== undefined ? { branchesOlderThanMs } : {}) });
    if (ctx.json) return (ctx.out(JSON.stringify(outcome, null, 2)), ExitCode.ok);
    for (const r of outcome.removed) ctx.out(describeRemoval(r));
    for (const k of outcome.kept) ctx.out(dim(`kept ${k.branch ?? k.worktree}: ${k.reason}`));
    const branches = outcome.removed.filter((r) => r.branchDeleted).length;
    ctx.out(
      `${outcome.removed.length} run(s) cleaned up (${branches} branch(es) deleted), ` +
        `${outcome.kept.length} kept${outcome.kept.length && !options.all ? ' (apply, merge or discard them; --older-than removes old unmerged ones)' : ''}`,
    );
    return ExitCode.ok;
  });
}
