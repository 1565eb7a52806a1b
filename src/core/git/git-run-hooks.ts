import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { EngineApi } from '../engine/engine-api.ts';
import type { RunHooks } from '../engine/run-hooks.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { pullRequestBody, pullRequestTitle } from '../github/pull-request-body.ts';
import {
  parseGitHubRemote,
  parseRepoSlug,
  type GitHubRepo,
  type PullRequestInfo,
  type PullRequestPublisher,
} from '../github/pull-requests.ts';
import { errorMessage, silentLogger, type Logger } from '../util/logger.ts';
import { commitAll, commitsAhead, createRunWorktree, excludeFromRepository, findRepository, isFolderInCommit, pushBranch, remoteUrl } from './git-workspace.ts';
import { readGitOptions, readGitState } from './run-options.ts';

/** The parts of the engine the hooks read after the engine is open. */
export type RunSummarySource = Pick<EngineApi, 'gates' | 'usage' | 'status'>;

/** Durably records part of what a run delivered (the engine's `recordDelivery`). */
export type DeliveryWriter = (runId: string, patch: RunDelivery) => Promise<void>;

export interface GitRunHooksOptions {
  /** Folder under which each run's worktree is created (`<stateDir>/worktrees`). */
  worktreeRoot: string;
  /** Remote to push to (default `origin`). */
  remote?: string;
  /** Opens pull requests; without it runs stop at the pushed branch (and say so). */
  publisher?: PullRequestPublisher;
  /** Repository for pull requests when the remote URL is not a GitHub one (`owner/name`). */
  repo?: string;
  /** Host of GitHub remotes to recognise (GitHub Enterprise). */
  githubHost?: string;
  logger?: Logger;
  /**
   * Hold `runFinished` until `attach` (the engine finalizes runs left unfinished while it
   * opens, before the adapter can attach): the pull request body needs the engine.
   */
  awaitAttach?: boolean;
  /** Heard once per run whose pull request exists (created now or found after a restart). */
  onPullRequest?: (run: RunRecord, pr: PullRequestInfo) => void;
}

/** `orchestr8/<workflow>-<short id>`, restricted to characters git accepts in any branch name. */
export function runBranchName(run: RunRecord): string {
  const slug =
    run.name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/\.{2,}|^[-.]+|[-.]+$/g, '')
      .slice(0, 40)
      .replace(/[-.]+$/, '') || 'run';
  return `orchestr8/${slug}-${run.id.slice(0, 7)}`;
}

function describeTask(task: TaskRecord): string {
  const a = task.action;
  return a.kind === 'agent' ? `agent ${a.agent}` : a.kind === 'run' ? 'shell command' : a.kind;
}

/**
 * Git and GitHub around a run: a worktree and branch per run, a commit per task that
 * changed files, and on success a push and a pull request. Everything it decides is
 * recorded in the run's delivery (`branch`, `worktree`, `pullRequest`, `notes`),
 * and every step may run again after a crash without doing anything twice.
 */
export class GitRunHooks implements RunHooks {
  private source?: RunSummarySource;
  private writeDelivery?: DeliveryWriter;
  /** What prepareRun decided, for engines that hand later hooks a run record read before it. */
  private readonly known = new Map<string, RunDelivery>();
  /** One git operation at a time per worktree (git's index lock), and one publish per run. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly logger: Logger;
  private readonly attached: Promise<void>;
  private markAttached!: () => void;

  constructor(private readonly options: GitRunHooksOptions) {
    this.logger = options.logger ?? silentLogger;
    this.attached = options.awaitAttach ? new Promise((resolve) => (this.markAttached = resolve)) : Promise.resolve();
    this.markAttached ??= () => {};
  }

  /** Connects the engine once it is open (the hooks are created before it). */
  attach(source: RunSummarySource, writeDelivery: DeliveryWriter): void {
    this.source = source;
    this.writeDelivery = writeDelivery;
    this.markAttached();
  }

  private state(run: RunRecord): RunDelivery {
    return { ...this.known.get(run.id), ...readGitState(run) };
  }

  /** Adds to what this publish step will hand back to the engine (merged into the run when it finalizes). */
  private note(run: RunRecord, patch: RunDelivery, add: RunDelivery): void {
    Object.assign(patch, add);
    this.known.set(run.id, { ...this.known.get(run.id), ...add });
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  async prepareRun(run: RunRecord): Promise<{ cwd?: string; delivery?: RunDelivery } | void> {
    const prior = this.state(run);
    if (prior.workspace === 'in-place') return;
    if (prior.worktree && existsSync(prior.worktree)) {
      return { cwd: prior.worktreeCwd ?? prior.worktree };
    }
    const opts = readGitOptions(run);
    if (opts.workspace === 'in-place') {
      return this.remember(run, { workspace: 'in-place', notes: ['workspace: in-place — the run works on the project folder itself; nothing is committed'] });
    }
    // A retried run's cwd may be its removed worktree: the repository it came from is recorded.
    let repoRoot: string | undefined;
    try {
      repoRoot = prior.repoRoot && existsSync(prior.repoRoot) ? prior.repoRoot : await findRepository(run.cwd);
    } catch (error) {
      this.logger.warn(`run ${run.id}: git failed in ${run.cwd}: ${errorMessage(error)}`);
      return this.remember(run, {
        workspace: 'in-place',
        notes: [`git failed in ${run.cwd} (${errorMessage(error)}): the run works in place, with no branch or pull request`],
      });
    }
    if (!repoRoot) {
      return this.remember(run, {
        workspace: 'in-place',
        notes: [`${run.cwd} is not in a git repository: the run works in place, with no branch or pull request`],
      });
    }
    // Undefined when the path leads out of the repository (a symlink that git resolved).
    const projectFolder = subPath(relative(repoRoot, resolve(run.cwd)));
    if (!prior.branch && projectFolder !== undefined && !(await isFolderInCommit(repoRoot, 'HEAD', projectFolder))) {
      return this.remember(run, {
        workspace: 'in-place',
        notes: [`${run.cwd} is not committed in the repository at ${repoRoot} (git-ignored or new), so a worktree would not hold it: the run works in place, with no branch or pull request`],
      });
    }
    await excludeFromRepository(repoRoot, this.options.worktreeRoot);
    const created = await createRunWorktree({
      repoRoot,
      dir: join(this.options.worktreeRoot, run.id),
      branch: runBranchName(run),
      ...(prior.branch && prior.baseSha ? { resume: { branch: prior.branch, baseSha: prior.baseSha } } : {}),
    });
    // Keep the run in the same sub-folder of the project, now inside the worktree.
    const rel = prior.worktree && prior.worktreeCwd ? subPath(relative(prior.worktree, prior.worktreeCwd)) : projectFolder;
    const worktreeCwd = rel ? join(created.worktree, rel) : created.worktree;
    const state: RunDelivery = {
      workspace: 'worktree',
      repoRoot,
      worktree: created.worktree,
      worktreeCwd,
      branch: created.branch,
      baseSha: created.baseSha,
      ...(created.baseBranch ? { baseBranch: created.baseBranch } : {}),
    };
    if (created.branch !== runBranchName(run)) {
      state.notes = [`branch ${runBranchName(run)} already existed; the run uses ${created.branch}`];
    }
    this.logger.info(`run ${run.id}: worktree ${created.worktree} on branch ${created.branch}`);
    const result = this.remember(run, state);
    return { ...result, cwd: worktreeCwd };
  }

  private remember(run: RunRecord, state: RunDelivery): { delivery: RunDelivery } {
    this.known.set(run.id, { ...this.known.get(run.id), ...state });
    return { delivery: state };
  }

  async taskCompleted(run: RunRecord, task: TaskRecord, _result: TaskResult): Promise<void> {
    const { worktree } = this.state(run);
    if (!worktree || !existsSync(worktree)) return;
    const message = `${task.name} (${describeTask(task)})\n\nOrchestr8 run ${run.id} (${run.name}), task ${task.id}.`;
    const sha = await this.serial(worktree, () => commitAll(worktree, message));
    if (sha) this.logger.info(`run ${run.id}: committed ${task.key} as ${sha.slice(0, 10)}`);
  }

  async runFinished(run: RunRecord, _tasks: TaskRecord[]): Promise<{ delivery?: RunDelivery } | void> {
    await this.attached;
    return this.serial(`publish:${run.id}`, async () => {
      const patch: RunDelivery = {};
      try {
        await this.publish(run, patch);
      } catch (error) {
        // The engine keeps the run unfinalized and calls again on its next start; what got
        // done (the push) and why it stopped are recorded now so the user can see them.
        if (this.writeDelivery && Object.keys(patch).length) await this.writeDelivery(run.id, patch).catch(() => {});
        throw error;
      }
      return Object.keys(patch).length ? { delivery: patch } : undefined;
    });
  }

  /**
   * Pushes the branch and opens the pull request of a completed run. Each step checks what
   * is already done, so it can run again after a crash.
   */
  private async publish(run: RunRecord, patch: RunDelivery): Promise<void> {
    const state = this.state(run);
    if (!state.worktree || !state.branch || !state.repoRoot || !state.baseSha) return;
    const notes = [...(state.notes ?? [])];
    const addNote = (text: string) => {
      if (!notes.includes(text)) notes.push(text);
      this.note(run, patch, { notes: [...notes] });
    };
    if (run.state !== 'completed') {
      addNote(`run ${run.state}: branch ${state.branch} kept locally, not pushed`);
      return;
    }
    if (state.pullRequest) {
      // Finished again after a Continue…: the new commits go to the same branch, which updates the
      // open pull request. (A push with nothing new is a no-op, so a repeated finalization costs nothing.)
      const pushed = await pushBranch(state.repoRoot, this.options.remote ?? 'origin', state.branch);
      if (!pushed.pushed) this.note(run, patch, { pushError: pushed.message });
      return;
    }
    const ahead = await commitsAhead(state.repoRoot, state.baseSha, state.branch);
    if (ahead === 0) {
      this.note(run, patch, { changed: false });
      addNote('the run changed no files: no commit, no pull request');
      return;
    }
    const opts = readGitOptions(run);
    const remote = this.options.remote ?? 'origin';
    const pushed = await pushBranch(state.repoRoot, remote, state.branch);
    if (!pushed.pushed) {
      this.logger.warn(`run ${run.id}: ${pushed.message}`);
      this.note(run, patch, { changed: true, pushError: pushed.message });
      addNote(pushed.message);
      return;
    }
    this.note(run, patch, { changed: true, pushedTo: remote, pushError: undefined });
    const publisher = this.options.publisher;
    if (!publisher) return addNote('no GitHub token: branch pushed, no pull request opened');
    const target = await this.target(state.repoRoot, remote);
    if (!target) return addNote(`remote ${remote} is not a GitHub repository and no pull_request.repo is set: no pull request opened`);
    const base = opts.pullRequest.base ?? state.baseBranch;
    if (!base) return addNote('the run started from a detached commit and no pull_request.base is set: no pull request opened');
    try {
      const pr = await publisher.ensure({
        ...target,
        head: state.branch,
        base,
        title: opts.pullRequest.title ?? pullRequestTitle(run),
        body: await this.body(run),
        draft: opts.pullRequest.draft,
      });
      this.note(run, patch, { pullRequest: { url: pr.url, number: pr.number }, pullRequestError: undefined });
      this.logger.info(`run ${run.id}: pull request ${pr.created ? 'opened' : 'found'}: ${pr.url}`);
      this.options.onPullRequest?.(run, pr);
    } catch (error) {
      const message = `opening the pull request failed: ${errorMessage(error)}`;
      this.note(run, patch, { pullRequestError: message });
      throw new Error(message);
    }
  }

  private async target(repoRoot: string, remote: string): Promise<GitHubRepo | undefined> {
    const configured = this.options.repo;
    if (configured) return parseRepoSlug(configured);
    const url = await remoteUrl(repoRoot, remote);
    return url ? parseGitHubRemote(url, this.options.githubHost) : undefined;
  }

  private async body(run: RunRecord): Promise<string> {
    const source = this.source;
    if (!source) return pullRequestBody({ run, tasks: [], gates: [], usage: zeroUsage() });
    const [status, gates, usage] = await Promise.all([source.status(run.id), source.gates(run.id), source.usage(run.id)]);
    const taskUsage: Record<string, Awaited<ReturnType<RunSummarySource['usage']>>> = {};
    await Promise.all(status.tasks.map(async (t) => void (taskUsage[t.id] = await source.usage(t.id))));
    return pullRequestBody({ run: status.run, tasks: status.tasks, gates, usage, taskUsage });
  }
}

function zeroUsage() {
  return { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costUsd: 0 };
}

/** `rel` when it names a folder inside the one it is relative to ('' for that folder itself), else undefined. */
function subPath(rel: string): string | undefined {
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel;
}
