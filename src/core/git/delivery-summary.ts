import type { RunRecord } from '../model/records.ts';

/**
 * What happened to a run's code, in words, from its recorded delivery: its branch, its commits,
 * whether and where it was pushed, and the pull request or why there is none. One source for the
 * completion toast, the result document, the tree and the CLI, so they never disagree.
 */
export interface DeliverySummary {
  /** One sentence for a toast or a tree tooltip; undefined when the run has nothing to say yet (still running, before its worktree). */
  sentence?: string;
  /** A few words for a tree row's description (`2 commits · PR #4`). */
  short?: string;
  /** Bullet lines for the result document. */
  lines: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function deliverySummary(run: RunRecord): DeliverySummary {
  const d = run.delivery ?? {};
  if (d.workspace === 'in-place') {
    const sentence = 'It worked in the project folder itself: no branch.';
    return { sentence, short: 'in place', lines: ['Workspace: the project folder itself (no branch, no commits)'] };
  }
  if (!d.branch) return { lines: [] };
  const lines = [`Branch: \`${d.branch}\`${d.baseBranch ? ` from \`${d.baseBranch}\`` : ''}${d.baseSha ? ` at ${d.baseSha.slice(0, 10)}` : ''}`];
  const finished = run.state !== 'running';
  const commits = d.commits ?? (d.changed === false ? 0 : undefined);
  if (commits !== undefined) lines.push(`Commits: ${commits}`);
  const parts = [`branch ${d.branch}`];
  if (commits !== undefined) parts.push(commits === 0 ? 'no changes' : plural(commits, 'commit'));
  let pushed: string | undefined;
  if (d.pushedTo) pushed = `pushed to ${d.pushedTo}`;
  else if (d.pushError) pushed = 'not pushed (push failed)';
  else if (finished && d.changed !== false) pushed = 'kept local';
  if (pushed) {
    parts.push(pushed);
    lines.push(`Pushed: ${d.pushedTo ? `yes, to \`${d.pushedTo}\`` : d.pushError ? `no — ${d.pushError}` : 'no, the branch is local'}`);
  }
  let pr: string | undefined;
  if (d.pullRequest) {
    pr = `pull request #${d.pullRequest.number}`;
    lines.push(`Pull request: <${d.pullRequest.url}>`);
  } else if (d.pullRequestError) {
    pr = 'no pull request (opening it failed)';
    lines.push(`Pull request: none — ${d.pullRequestError}`);
  } else if (d.noPullRequest && d.changed !== false) {
    pr = `no pull request: ${d.noPullRequest}`;
    lines.push(`Pull request: none — ${d.noPullRequest}`);
  }
  if (pr) parts.push(pr);
  const short = [
    commits !== undefined ? (commits === 0 ? 'no changes' : plural(commits, 'commit')) : undefined,
    d.pullRequest ? `PR #${d.pullRequest.number}` : pushed === 'kept local' ? 'local branch' : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const sentence = `${parts[0]![0]!.toUpperCase()}${parts.join(', ').slice(1)}.`;
  return { sentence, ...(short ? { short } : {}), lines };
}
