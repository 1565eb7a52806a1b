import type { RunRecord } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';

/** The workflow options (checked by the parser's schema) that the git and GitHub hooks act on. */
export interface GitWorkflowOptions {
  /** `worktree` (default in a git repository) or `in-place` (work on the user's tree; no commits). */
  workspace: 'worktree' | 'in-place';
  pullRequest: { draft: boolean; base?: string; title?: string };
  /** Agent asked to resolve a task's merge conflict before the task fails for it. */
  resolveConflicts?: string;
  /** `push: true`: push the branch even when no pull request will be opened. */
  push: boolean;
  /** `include:` paths (gitignore patterns) of the project folder copied into the run's worktree, with `.worktreeinclude`'s. */
  include: string[];
}

function str(v: string | undefined): string | undefined {
  return v?.trim() ? v.trim() : undefined;
}

export function readGitOptions(run: RunRecord): GitWorkflowOptions {
  const o = run.options ?? {};
  const pr = o.pull_request ?? {};
  return {
    workspace: o.workspace === 'in-place' ? 'in-place' : 'worktree',
    pullRequest: { draft: pr.draft === true, base: str(pr.base), title: str(pr.title) },
    ...(str(o.resolve_conflicts) ? { resolveConflicts: str(o.resolve_conflicts) } : {}),
    push: o.push === true,
    include: Array.isArray(o.include) ? o.include.filter((p): p is string => typeof p === 'string') : [],
  };
}

/** What the hooks decided and did so far, as recorded in the run's delivery. */
export function readGitState(run: RunRecord): RunDelivery {
  return run.delivery ?? {};
}
