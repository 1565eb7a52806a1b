import type { EngineApi } from '../engine/engine-api.ts';
import { existsSync } from 'node:fs';
import type { RunRecord } from '../model/records.ts';
// Not git-workspace.ts: this module is in the extension's own bundle, which must not carry simple-git.
import { branchExists, discardRun, isBranchMerged, isRunApplied, removeRunWorktrees } from './run-review.ts';
import { readGitState } from './run-options.ts';

/** Why cleanup removed a run's worktree and branch. */
export type CleanupReason =
  /** Its branch is merged into its base branch (a merged pull request, a merge by hand). */
  | 'merged'
  /** Its branch is in the user's current branch (`apply`). */
  | 'applied'
  /** It committed nothing. */
  | 'unchanged'
  /** Unmerged, but finished longer ago than the retention (`branchesOlderThanMs`). */
  | 'expired'
  /** `all`: the worktree goes, the unmerged branch stays. */
  | 'requested';

export interface CleanupOutcome {
  /** What was removed, per run. */
  removed: Array<{
    runId: string;
    /** The run's worktree, when it still existed and was removed. */
    worktree?: string;
    branch?: string;
    /** Whether the local branch was deleted (only `requested` keeps it). */
    branchDeleted: boolean;
    /** `remote/branch` when the branch the run pushed was deleted too. */
    remoteBranch?: string;
    reason: CleanupReason;
  }>;
  /** Runs whose worktree or branch stay, and why. */
  kept: Array<{ runId: string; worktree?: string; branch?: string; reason: string }>;
}

export interface CleanupOptions {
  /** Remove every finished run's worktree, merged or not (unmerged branches still stay). */
  all?: boolean;
  /** Unmerged branches (and worktrees) of runs finished longer ago than this are removed too. */
  branchesOlderThanMs?: number;
  now?: number;
}

/**
 * Removes what finished runs left in the repository: the worktrees and branches of runs that
 * are merged into their base, applied to the current branch, or changed nothing (the branch it
 * pushed too, for merged and applied ones: cleanup removes only what runs created), and of
 * unmerged runs older than the retention. With `all`, every finished run's worktree goes, but
 * an unmerged branch, which holds the only copy of its work, stays. Running runs are never touched.
 */
export async function cleanupRunWorktrees(runs: RunRecord[], options: CleanupOptions = {}): Promise<CleanupOutcome> {
  const outcome: CleanupOutcome = { removed: [], kept: [] };
  const now = options.now ?? Date.now();
  for (const run of runs) {
    const s = readGitState(run);
    if (!s.repoRoot || !existsSync(s.repoRoot) || (!s.worktree && !s.branch)) continue;
    const worktree = s.worktree && existsSync(s.worktree) ? s.worktree : undefined;
    const branch = s.branch && (await branchExists(s.repoRoot, s.branch)) ? s.branch : undefined;
    if (!worktree && !branch) continue;
    if (run.state === 'running') {
      outcome.kept.push({ runId: run.id, ...(worktree ? { worktree } : {}), ...(branch ? { branch } : {}), reason: 'run still running' });
      continue;
    }
    let reason: CleanupReason | undefined;
    if (s.changed === false) reason = 'unchanged';
    else if (branch && s.baseBranch && (await isBranchMerged(s.repoRoot, branch, `refs/heads/${s.baseBranch}`))) reason = 'merged';
    else if (branch && (await isRunApplied(s))) reason = 'applied';
    else if (options.branchesOlderThanMs !== undefined && run.finishedAt !== undefined && now - run.finishedAt > options.branchesOlderThanMs)
      reason = 'expired';
    if (reason) {
      // A pushed branch is deleted once its work landed; an expired one only if no pull request hangs on it.
      const remote = (reason === 'merged' || reason === 'applied' || (reason === 'expired' && !s.pullRequest)) && !!branch;
      const out = await discardRun(run.id, s, { remote });
      outcome.removed.push({
        runId: run.id,
        ...(worktree ? { worktree } : {}),
        ...(s.branch ? { branch: s.branch } : {}),
        branchDeleted: out.branch !== undefined,
        ...(out.remoteBranch ? { remoteBranch: out.remoteBranch } : {}),
        reason,
      });
    } else if (options.all && worktree) {
      await removeRunWorktrees(s.repoRoot, s);
      outcome.removed.push({ runId: run.id, worktree, ...(branch ? { branch } : {}), branchDeleted: false, reason: 'requested' });
    } else {
      outcome.kept.push({
        runId: run.id,
        ...(worktree ? { worktree } : {}),
        ...(branch ? { branch } : {}),
        reason: `branch ${branch ?? s.branch} not merged into ${s.baseBranch ?? 'its base'} nor applied`,
      });
    }
  }
  return outcome;
}

/** `cleanupRunWorktrees` over every finished run the engine knows (what the CLI and extension commands call). */
export async function cleanupWorktrees(api: Pick<EngineApi, 'list'>, options: CleanupOptions = {}): Promise<CleanupOutcome> {
  const runs: RunRecord[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await api.list({ limit: 200, offset, states: ['completed', 'failed', 'cancelled'] });
    runs.push(...page.runs);
    if (page.runs.length < 200) break;
  }
  return cleanupRunWorktrees(runs, options);
}

/** One line per removal, as the CLI and the extension say it. */
export function describeRemoval(r: CleanupOutcome['removed'][number]): string {
  const why = { merged: 'merged', applied: 'applied', unchanged: 'changed nothing', expired: 'older than the retention', requested: 'asked' }[r.reason];
  const parts = [r.worktree ? `worktree ${r.worktree}` : undefined, r.branchDeleted ? `branch ${r.branch}` : undefined, r.remoteBranch].filter(Boolean);
  const kept = !r.branchDeleted && r.branch ? ` (branch ${r.branch} kept: not merged)` : '';
  return `removed ${parts.join(', ')} (${why})${kept}`;
}

/** A finished run's worktree and branch still in the repository, and whether its work is merged or applied. */
export interface RunLeftover {
  run: RunRecord;
  worktree?: string;
  branch?: string;
  /** Its branch's commits are in its base or the current branch (or it has none): removing it loses nothing. */
  landed: boolean;
}

/** What finished runs left in their repositories (what "Clear Finished Runs" offers to remove with them). */
export async function runLeftovers(runs: RunRecord[]): Promise<RunLeftover[]> {
  const found: RunLeftover[] = [];
  for (const run of runs) {
    const s = readGitState(run);
    if (run.state === 'running' || !s.repoRoot || !existsSync(s.repoRoot)) continue;
    const worktree = s.worktree && existsSync(s.worktree) ? s.worktree : undefined;
    const branch = s.branch && (await branchExists(s.repoRoot, s.branch)) ? s.branch : undefined;
    if (!worktree && !branch) continue;
    const landed =
      s.changed === false || !branch || (!!s.baseBranch && (await isBranchMerged(s.repoRoot, branch, `refs/heads/${s.baseBranch}`))) || (await isRunApplied(s));
    found.push({ run, ...(worktree ? { worktree } : {}), ...(branch ? { branch } : {}), landed });
  }
  return found;
}

/** Removes the worktrees and local branches `runLeftovers` found; branches on remotes stay (a pull request may hang on them). */
export async function removeLeftovers(leftovers: RunLeftover[]): Promise<{ worktrees: number; branches: number; notes: string[] }> {
  const total = { worktrees: 0, branches: 0, notes: [] as string[] };
  for (const l of leftovers) {
    const out = await discardRun(l.run.id, readGitState(l.run), { remote: false });
    total.worktrees += out.worktrees.length;
    if (out.branch) total.branches++;
    total.notes.push(...out.notes);
  }
  return total;
}
