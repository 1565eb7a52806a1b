import { cleanupWorktrees } from '../../core/git/worktree-cleanup.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';
import { withReader } from '../state-reader.ts';
import { dim } from '../format.ts';

export interface CleanupOptions extends GlobalOptions {
  all?: boolean;
}

/**
 * `orchestr8 cleanup [--all]`: removes the git worktrees of finished runs whose branch is
 * merged (or that changed nothing); `--all` every finished run's. Branches stay. Reads the
 * run list from a snapshot, so it works whether or not another process owns the state.
 */
export async function cleanupCommand(options: CleanupOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(
    ctx,
    async (api) => {
      const outcome = await cleanupWorktrees(api, { all: options.all ?? false });
      if (ctx.json) return ctx.out(JSON.stringify(outcome, null, 2)), ExitCode.ok;
      for (const r of outcome.removed) ctx.out(`removed ${r.worktree}${r.branch ? ` (branch ${r.branch} kept)` : ''}`);
      for (const k of outcome.kept) ctx.out(dim(`kept ${k.worktree}: ${k.reason}`));
      ctx.out(`${outcome.removed.length} worktree(s) removed, ${outcome.kept.length} kept${outcome.kept.length && !options.all ? ' (--all removes unmerged ones too)' : ''}`);
      return ExitCode.ok;
    },
  );
}
