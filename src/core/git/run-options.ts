import type { RunRecord } from '../model/records.ts';

/**
 * Workflow options (top-level keys of a workflow file that the engine keeps verbatim in
 * `run.options`) read by the git and GitHub hooks, and the keys they record back.
 */
export interface GitWorkflowOptions {
  /** `worktree` (default in a git repository) or `in-place` (work on the user's tree; no commits). */
  workspace: 'worktree' | 'in-place';
  /** Ref the run's branch starts from; HEAD by default. */
  base?: string;
  remote?: string;
  /** False turns pull requests off for this workflow. */
  pullRequest: false | { draft: boolean; base?: string; repo?: string; title?: string };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export function readGitOptions(run: RunRecord): GitWorkflowOptions {
  const o = run.options ?? {};
  const pr = o['pull_request'];
  let pullRequest: GitWorkflowOptions['pullRequest'] = { draft: false };
  if (pr === false) pullRequest = false;
  else if (pr && typeof pr === 'object') {
    const p = pr as Record<string, unknown>;
    pullRequest = p['enabled'] === false ? false : { draft: p['draft'] === true, base: str(p['base']), repo: str(p['repo']), title: str(p['title']) };
  }
  return {
    workspace: o['workspace'] === 'in-place' ? 'in-place' : 'worktree',
    base: str(o['base']),
    remote: str(o['remote']),
    pullRequest,
  };
}

/** What the hooks record in `run.options` so the UI, the CLI and a restarted process can see it. */
export interface GitRunState {
  workspace?: 'worktree' | 'in-place';
  repoRoot?: string;
  worktree?: string;
  branch?: string;
  baseSha?: string;
  baseBranch?: string;
  /** The folder of the project the run's cwd was relative to the repository top. */
  worktreeCwd?: string;
  /** Human-readable notes: why there is no worktree, no push, no pull request. */
  gitNotes?: string[];
  pushedTo?: string;
  pushError?: string;
  changed?: boolean;
  pullRequestUrl?: string;
  pullRequestNumber?: number;
  pullRequestError?: string;
}

export function readGitState(run: RunRecord): GitRunState {
  return (run.options ?? {}) as GitRunState;
}
