import type { RunRecord } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { pullRequestTitle } from '../github/pull-request-body.ts';
import { parseGitHubRemote, parseRepoSlug, type GitHubRepo, type PullRequestInfo, type PullRequestPublisher } from '../github/pull-requests.ts';
import { errorMessage } from '../util/logger.ts';
import { removeIdleTaskWorktrees, removeIfUnchanged, type CleanupContext } from './finished-run-cleanup.ts';
import { commitsAhead, pushBranch, remoteUrl } from './git-workspace.ts';
import { readGitOptions } from './run-options.ts';

/** Where a finished run's branch goes: the remote, the pull request's repository and who opens it. */
export interface PublishOptions {
  /** Remote to push to (default `origin`). */
  remote?: string;
  /** Opens pull requests; without it runs stop at the pushed branch (and say so). */
  publisher?: PullRequestPublisher;
  /** Repository for pull requests when the remote URL is not a GitHub one (`owner/name`). */
  repo?: string;
  /** Host of GitHub remotes to recognise (GitHub Enterprise). */
  githubHost?: string;
  /** Push branches even when no pull request will be opened (`ORCHESTR8_GIT_PUSH`, the `orchestr8.git.push` setting). */
  push?: boolean;
  /** Why there is no `publisher`, as the user should read it (`no GitHub session in VS Code`); default names the token variables. */
  noPublisherReason?: string;
  /** Heard once per run whose pull request exists (created now or found after a restart). */
  onPullRequest?: (run: RunRecord, pr: PullRequestInfo) => void;
}

export interface RunPublishingContext extends CleanupContext {
  options: PublishOptions;
  /** The pull request's description: what the run did (tasks, gates, totals). */
  body: (run: RunRecord) => Promise<string>;
}

/**
 * Pushes the branch and opens the pull request of a completed run; a run that changed nothing
 * loses its worktree and branch instead. What it decides is added to `patch` as it goes, so a
 * failure still hands back what got done. Each step checks what is already done, so it can run
 * again after a crash.
 */
export async function publishRun(ctx: RunPublishingContext, run: RunRecord, state: RunDelivery, patch: RunDelivery): Promise<void> {
  if (!state.worktree || !state.branch || !state.repoRoot || !state.baseSha) return;
  const { options, logger } = ctx;
  const note = (add: RunDelivery) => void Object.assign(patch, add);
  const notes = [...(state.notes ?? [])];
  const addNote = (text: string) => {
    if (!notes.includes(text)) notes.push(text);
    note({ notes: [...notes] });
  };
  if (state.changed === false) return; // found unchanged and removed before a restart
  if (await removeIfUnchanged(ctx, run, state)) {
    note({ changed: false, commits: 0, noPullRequest: 'no changes' });
    addNote('the run changed no files: no commit, no branch, no pull request');
    return;
  }
  await removeIdleTaskWorktrees(ctx, state);
  if (run.state !== 'completed') {
    note({ noPullRequest: `run ${run.state}` });
    addNote(`run ${run.state}: branch ${state.branch} kept locally, not pushed`);
    return;
  }
  const remote = options.remote ?? 'origin';
  const ahead = await commitsAhead(state.repoRoot, state.baseSha, state.branch);
  note({ changed: true, commits: ahead });
  if (state.pullRequest) {
    // Finished again after a Continue…: the new commits go to the same branch, which updates the
    // open pull request. (A push with nothing new is a no-op, so a repeated finalization costs nothing.)
    const pushed = await pushBranch(state.repoRoot, remote, state.branch);
    if (!pushed.pushed) return note({ pushError: pushed.message });
    const refused = await rewriteBody(ctx, run, state.repoRoot, remote, state.pullRequest.number);
    if (refused) addNote(refused);
    return;
  }
  const opts = readGitOptions(run);
  // A branch is pushed for its pull request, or when the workflow or a setting asks: decide first.
  const publisher = options.publisher;
  const hasRemote = !!(await remoteUrl(state.repoRoot, remote));
  const target = publisher && hasRemote ? await pullRequestRepo(options, state.repoRoot, remote) : undefined;
  const base = opts.pullRequest.base ?? state.baseBranch;
  let noPr: { short: string; why: string } | undefined;
  if (!publisher)
    noPr = {
      short: options.noPublisherReason ?? 'no GitHub token',
      why: `${options.noPublisherReason ?? 'no GitHub token (ORCHESTR8_GITHUB_TOKEN or GITHUB_TOKEN)'}: no pull request opened`,
    };
  else if (!hasRemote) noPr = { short: `no remote ${remote}`, why: `no git remote named "${remote}": no pull request opened` };
  else if (!target)
    noPr = {
      short: `${remote} is not on GitHub`,
      why: `remote ${remote} is not a GitHub repository and ORCHESTR8_GITHUB_REPO (owner/name) is not set: no pull request opened`,
    };
  else if (!base) noPr = { short: 'no base branch', why: 'the run started from a detached commit and no pull_request.base is set: no pull request opened' };
  if (noPr && !(opts.push || options.push)) {
    note({ noPullRequest: noPr.short });
    return addNote(`${noPr.why}; branch ${state.branch} kept local, not pushed (push: true in the workflow pushes it anyway)`);
  }
  const pushed = await pushBranch(state.repoRoot, remote, state.branch);
  if (!pushed.pushed) {
    logger.warn(`run ${run.id}: ${pushed.message}`);
    note({ pushError: pushed.message, noPullRequest: noPr?.short ?? 'push failed' });
    addNote(pushed.message);
    return;
  }
  note({ pushedTo: remote, pushError: undefined });
  if (noPr || !publisher || !target || !base) {
    // (the last three only narrow types: noPr is set exactly when one of them is missing)
    note({ noPullRequest: noPr?.short });
    return addNote(`${noPr?.why ?? 'no pull request opened'}; branch pushed to ${remote}`);
  }
  try {
    const pr = await publisher.ensure({
      ...target,
      head: state.branch,
      base,
      title: opts.pullRequest.title ?? pullRequestTitle(run),
      body: await ctx.body(run),
      draft: opts.pullRequest.draft,
    });
    note({ pullRequest: { url: pr.url, number: pr.number }, pullRequestError: undefined, noPullRequest: undefined });
    logger.info(`run ${run.id}: pull request ${pr.created ? 'opened' : 'found'}: ${pr.url}`);
    options.onPullRequest?.(run, pr);
  } catch (error) {
    const message = `opening the pull request failed: ${errorMessage(error)}`;
    note({ pullRequestError: message });
    throw new Error(message);
  }
}

/**
 * The pull request's description says what the run did (tasks, gates, totals): after a
 * Continue… it is written again, so it names the follow-up and the new totals. The same
 * text twice is harmless, so a finalization repeated after a crash just writes it again.
 * A failure is logged and resolved as the note to show on the run, not thrown: the commits
 * are pushed already, and a description GitHub refuses to change must not keep the run
 * from finishing.
 */
async function rewriteBody(ctx: RunPublishingContext, run: RunRecord, repoRoot: string, remote: string, number: number): Promise<string | undefined> {
  const publisher = ctx.options.publisher;
  const target = publisher ? await pullRequestRepo(ctx.options, repoRoot, remote) : undefined;
  if (!publisher || !target) return undefined;
  try {
    await publisher.updateBody(target, number, await ctx.body(run));
    return undefined;
  } catch (error) {
    const message = `updating the description of pull request #${number} failed: ${errorMessage(error)}`;
    ctx.logger.warn(`run ${run.id}: ${message}`);
    return message;
  }
}

/** The GitHub repository pull requests go to: the configured one, else the remote's. */
async function pullRequestRepo(options: PublishOptions, repoRoot: string, remote: string): Promise<GitHubRepo | undefined> {
  if (options.repo) return parseRepoSlug(options.repo);
  const url = await remoteUrl(repoRoot, remote);
  return url ? parseGitHubRemote(url, options.githubHost) : undefined;
}
