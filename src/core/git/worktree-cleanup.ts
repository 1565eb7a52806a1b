import type { EngineApi } from '../engine/engine-api.ts';
import { existsSync } from 'node:fs';
import type { RunRecord } from '../model/records.ts';
import { isMerged, listWorktrees, removeWorktree } from './git-workspace.ts';
import { readGitState } from './run-options.ts';

export interface CleanupOutcome {
  /** Worktree folders removed. */
  removed: Array<{ runId: string; worktree: string; branch?: string; reason: 'merged' | 'requested' }>;
  /** Worktrees of finished runs left alone, and why. */
  kept: Array<{ runId: string; worktree: string; reason: string }>;
}

/**
 * Removes the worktrees of finished runs: those whose branch is merged into its base, or
 * every finished run's with `all`. The branches stay (they hold the work and back any pull
 * request); uncommitted changes in a removed worktree are discarded, which is why unmerged
 * worktrees need `all`. Running runs are never touched.
 */
export async function cleanupRunWorktrees(runs: RunRecord[], options: { all?: boolean } = {}): Promise<CleanupOutcome> {
  const outcome: CleanupOutcome = { removed: [], kept: [] };
  for (const run of runs) {
    const s = readGitState(run);
    if (!s.worktree || !s.repoRoot) continue;
    if (!existsSync(s.worktree)) continue;
    if (run.state === 'running') {
      outcome.kept.push({ runId: run.id, worktree: s.worktree, reason: 'run still running' });
      continue;
    }
    const into = s.baseBranch ? `refs/heads/${s.baseBranch}` : undefined;
    const merged = !!(s.branch && into && s.changed !== false && (await isMerged(s.repoRoot, s.branch, into)));
    const nothing = s.changed === false;
    if (options.all || merged || nothing) {
      await removeWorktree(s.repoRoot, s.worktree);
      // Task worktrees kept for a conflict live beside the run's (`<run>-tasks/`); their branches stay too.
      for (const w of await listWorktrees(s.repoRoot)) {
        if (w.path.startsWith(`${s.worktree}-tasks/`)) await removeWorktree(s.repoRoot, w.path);
      }
      outcome.removed.push({ runId: run.id, worktree: s.worktree, branch: s.branch, reason: options.all && !merged && !nothing ? 'requested' : 'merged' });
    } else {
      outcome.kept.push({ runId: run.id, worktree: s.worktree, reason: `branch ${s.branch} not merged into ${s.baseBranch ?? 'its base'}` });
    }
  }
  return outcome;
}

/** `cleanupRunWorktrees` over every run the engine knows (what the CLI and extension commands call). */
export async function cleanupWorktrees(api: Pick<EngineApi, 'list'>, options: { all?: boolean } = {}): Promise<CleanupOutcome> {
  const runs: RunRecord[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await api.list({ limit: 200, offset, states: ['completed', 'failed', 'cancelled'] });
    runs.push(...page.runs);
    if (page.runs.length < 200) break;
  }
  return cleanupRunWorktrees(runs, options);
}
