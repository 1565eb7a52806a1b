import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { agentMayWrite } from '../agents/agent-writes.ts';
import type { EngineApi } from '../engine/engine-api.ts';
import type { HookContext, PreparedTask, RunHooks } from '../engine/run-hooks.ts';
import type { MergeConflict, RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import { MergeConflictError, type TaskOutput } from '../runners/task-runner.ts';
import { crashPoint } from '../util/crash-points.ts';
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
import { commitAll, commitsAhead, createRunWorktree, excludeFromRepository, findRepository, git, isFolderInCommit, listWorktrees, pushBranch, remoteUrl, removeWorktree } from './git-workspace.ts';
import { resolveConflictsWithAgent } from './conflict-resolver.ts';
import { bringProjectFiles } from './project-files.ts';
import { readGitOptions, readGitState } from './run-options.ts';
import {
  clearStaleIndexLock,
  createTaskWorktree,
  filesWithConflictMarkers,
  findTaskWork,
  mergeInProgress,
  mergeTaskBranch,
  removeTaskWorktree,
  startConflictMerge,
  taskBranchName,
  taskCommitMessage,
  unmergedFiles,
  worktreeOfBranch,
} from './task-worktrees.ts';

/** The parts of the engine a pull request's summary reads. */
type RunSummarySource = Pick<EngineApi, 'gates' | 'usage' | 'status'>;

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
  /** Push branches even when no pull request will be opened (`ORCHESTR8_GIT_PUSH`, the `orchestr8.git.push` setting). */
  push?: boolean;
  /** Why there is no `publisher`, as the user should read it (`no GitHub session in VS Code`); default names the token variables. */
  noPublisherReason?: string;
  logger?: Logger;
  /** Heard once per run whose pull request exists (created now or found after a restart). */
  onPullRequest?: (run: RunRecord, pr: PullRequestInfo) => void;
  /**
   * Whether a task may change files, and so works in a worktree of its own (default: shell
   * commands and agents with a writing tool do; `wait` and `noop` share the run's worktree).
   */
  taskWrites?: (run: RunRecord, task: TaskRecord) => Promise<boolean>;
}

/** Shell tasks and agents with a tool that writes change files; waiting and no-ops do not. */
export async function defaultTaskWrites(run: RunRecord, task: TaskRecord): Promise<boolean> {
  const a = task.action;
  if (a.kind === 'run') return true;
  if (a.kind === 'agent') return agentMayWrite(run.cwd, a.agent);
  return false;
}

/** Trailer of the commit merging a task into the run's branch (the task's own commit carries `Orchestr8-Task`). */
const TASK_MERGE_TRAILER = 'Orchestr8-Merged-Task';

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

/** The commit subject's "what": the task's name when it has one of its own, else its kind. */
function whatTaskDid(task: TaskRecord): string {
  return task.name && task.name !== task.key ? task.name : describeTask(task);
}

/** Where a task's worktree lives: beside the run's, one folder per attempt (a retry starts clean). */
function taskWorktreeDir(worktreeRoot: string, run: RunRecord, task: TaskRecord): string {
  return join(worktreeRoot, `${run.id}-tasks`, `${task.key.replace(/[^A-Za-z0-9_-]+/g, '-')}-${task.attempt}`);
}

/**
 * Git and GitHub around a run: a worktree and branch per run, a commit per task that
 * changed files, and on success a push and a pull request. Everything it decides is
 * recorded in the run's delivery (`branch`, `worktree`, `pullRequest`, `notes`),
 * and every step may run again after a crash without doing anything twice.
 */
export class GitRunHooks implements RunHooks {
  /** What prepareRun decided, for engines that hand later hooks a run record read before it. */
  private readonly known = new Map<string, RunDelivery>();
  /** One git operation at a time per worktree (git's index lock), and one publish per run. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly logger: Logger;

  constructor(private readonly options: GitRunHooksOptions) {
    this.logger = options.logger ?? silentLogger;
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
    // The whole state folder (`<state>/worktrees`' parent: journal, logs, worktrees), not only the worktrees: its own
    // .gitignore may be missing (an older store) or edited, and git status must stay the user's.
    await excludeFromRepository(repoRoot, dirname(this.options.worktreeRoot));
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
      // A retried run that was found unchanged (and lost its branch) may change things this time.
      ...(prior.changed === false ? { changed: undefined } : {}),
    };
    if (created.branch !== runBranchName(run)) {
      state.notes = [`branch ${runBranchName(run)} already existed; the run uses ${created.branch}`];
    }
    if (!prior.branch) {
      // First time only: a retry or resume keeps what the run saw at launch.
      // Best effort: the run goes on without them, and says why.
      const project = await bringProjectFiles({
        projectDir: resolve(run.cwd),
        worktreeCwd,
        include: readGitOptions(run).include,
        commit: (message) => this.serial(created.worktree, () => commitAll(created.worktree, message)),
      }).catch((error: unknown) => ({ delivery: {}, copied: [], notes: [`could not bring the project folder's agent files and listed files into the worktree: ${errorMessage(error)}`] }));
      Object.assign(state, project.delivery);
      if (project.notes.length) state.notes = [...(state.notes ?? []), ...project.notes];
      for (const note of project.notes) this.logger.info(`run ${run.id}: ${note}`);
    }
    this.logger.info(`run ${run.id}: worktree ${created.worktree} on branch ${created.branch}`);
    const result = this.remember(run, state);
    return { ...result, cwd: worktreeCwd };
  }

  private remember(run: RunRecord, state: RunDelivery): { delivery: RunDelivery } {
    this.known.set(run.id, { ...this.known.get(run.id), ...state });
    return { delivery: state };
  }

  /**
   * A task that may change files gets a worktree of its own, on a branch made from the run's
   * branch as it is now (holding the merged work of everything it needs). Work it committed
   * before (the owner died before the merge, or the merge conflicted and was resolved by hand)
   * is not done again: the attempt completes at once and `taskCompleted` merges it.
   */
  async prepareTask(run: RunRecord, task: TaskRecord): Promise<PreparedTask | void> {
    const state = this.state(run);
    if (!state.worktree || !state.branch || !state.repoRoot || !state.baseSha || !existsSync(state.worktree)) return;
    if (!(await (this.options.taskWrites ?? defaultTaskWrites)(run, task))) return;
    const { repoRoot, worktree, branch, baseSha } = state;
    const taskBranch = taskBranchName(branch, task.key);
    return this.serial(worktree, async () => {
      // The run may have finished (cancelled) and removed its worktree while this waited its turn.
      if (!existsSync(worktree)) return;
      await this.recover(worktree);
      const found = await findTaskWork(repoRoot, baseSha, branch, taskBranch, task.id, task.followUps?.length ?? 0);
      if (found) {
        this.logger.info(`run ${run.id}: ${task.key}'s work is ${found === 'merged' ? 'in' : 'committed beside'} ${branch} already; not run again`);
        return { done: await this.savedOutput(run, task) };
      }
      const dir = taskWorktreeDir(this.options.worktreeRoot, run, task);
      await createTaskWorktree(repoRoot, dir, taskBranch, branch);
      const rel = state.worktreeCwd ? subPath(relative(worktree, state.worktreeCwd)) : undefined;
      return { cwd: rel ? join(dir, rel) : dir };
    });
  }

  /** The output a task had when its work was committed (kept beside its worktree), for an attempt that does not run again. */
  private async savedOutput(run: RunRecord, task: TaskRecord): Promise<TaskOutput> {
    try {
      return JSON.parse(await readFile(this.outputFile(run, task), 'utf8')) as TaskOutput;
    } catch {
      return { output: '(the task had committed its work before the engine stopped; its output was not kept)' };
    }
  }

  private outputFile(run: RunRecord, task: TaskRecord): string {
    return join(this.options.worktreeRoot, `${run.id}-tasks`, `${task.key.replace(/[^A-Za-z0-9_-]+/g, '-')}.output.json`);
  }

  /** Once per run worktree per process: what a killed git left there (its index lock) goes before anything runs git in it. */
  private readonly recovered = new Set<string>();
  private async recover(worktree: string): Promise<void> {
    if (this.recovered.has(worktree)) return;
    this.recovered.add(worktree);
    if (await clearStaleIndexLock(worktree).catch(() => false)) this.logger.warn(`${worktree}: removed the index lock a killed git left`);
  }

  async taskCompleted(run: RunRecord, task: TaskRecord, result: TaskResult, ctx: HookContext): Promise<void> {
    const state = this.state(run);
    const { worktree, branch, repoRoot } = state;
    if (!worktree || !existsSync(worktree)) return;
    const message = taskCommitMessage(task.key, whatTaskDid(task), `Orchestr8 run ${run.id} (${run.name}), task ${task.id}.`, task.id, task.followUps?.length ?? 0);
    const taskBranch = branch ? taskBranchName(branch, task.key) : undefined;
    const own = repoRoot && taskBranch ? await worktreeOfBranch(repoRoot, taskBranch) : undefined;
    const hasBranch = repoRoot && taskBranch ? (await git(repoRoot).raw(['for-each-ref', '--format=%(refname)', `refs/heads/${taskBranch}`])).trim() !== '' : false;
    if (!repoRoot || !branch || !taskBranch || (!own && !hasBranch)) {
      // A task that shares the run's worktree: whatever it changed there is committed in its name.
      const sha = await this.serial(worktree, async () => {
        await this.recover(worktree);
        return commitAll(worktree, message);
      });
      if (sha) this.logger.info(`run ${run.id}: committed ${task.key} as ${sha.slice(0, 10)}`);
      return;
    }
    if (own) {
      if (await mergeInProgress(own)) {
        // A conflict from before. Merged by hand into the run's branch: the merge left in the
        // task's worktree is not needed (and committing it would commit its markers). Else it
        // must be resolved there: no file left unmerged, none staged with its markers.
        if (await this.mergedAlready(repoRoot, taskBranch, branch)) {
          await git(own).raw(['merge', '--abort']);
        } else {
          const left = await unmergedFiles(own);
          const marked = left.length ? left : await filesWithConflictMarkers(own);
          const conflict = { files: marked, taskBranch, worktree: own, runBranch: branch, runWorktree: worktree };
          if (marked.length && !(await this.resolveWithAgent(run, task, conflict, ctx))) throw this.conflict(run, task, conflict);
        }
      }
      await writeFile(this.outputFile(run, task), JSON.stringify({ output: result.output, ...(result.data !== undefined ? { data: result.data } : {}), ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}) }));
      const sha = await commitAll(own, message);
      if (sha) this.logger.info(`run ${run.id}: committed ${task.key} as ${sha.slice(0, 10)} on ${taskBranch}`);
      crashPoint('task.committed');
    }
    const merge = () =>
      this.serial(worktree, async () => {
        await this.recover(worktree);
        return mergeTaskBranch({ repoRoot, runWorktree: worktree, runBranch: branch, taskBranch, message: `${task.key}: merge into the run's branch\n\n${TASK_MERGE_TRAILER}: ${task.id}` });
      });
    let outcome = await merge();
    if (!outcome.merged) {
      const where = own ?? (await this.conflictWorktree(run, task, taskBranch, repoRoot));
      await startConflictMerge(where, branch);
      const conflict = { files: outcome.files, taskBranch, worktree: where, runBranch: branch, runWorktree: worktree };
      // Resolved (and committed) in the task's worktree: the task's branch now holds the run's, so it merges.
      if (await this.resolveWithAgent(run, task, conflict, ctx)) outcome = await merge();
      if (!outcome.merged) throw this.conflict(run, task, { ...conflict, files: outcome.files });
    }
    await removeTaskWorktree(repoRoot, taskBranch);
    await rm(this.outputFile(run, task), { force: true });
  }

  private async mergedAlready(repoRoot: string, taskBranch: string, runBranch: string): Promise<boolean> {
    const n = (await git(repoRoot).raw(['rev-list', '--count', `refs/heads/${runBranch}..refs/heads/${taskBranch}`])).trim();
    return n === '0';
  }

  /** A task branch without a worktree (removed by hand) still gets one to hold the conflict. */
  private async conflictWorktree(run: RunRecord, task: TaskRecord, taskBranch: string, repoRoot: string): Promise<string> {
    const dir = taskWorktreeDir(this.options.worktreeRoot, run, task);
    await git(repoRoot).raw(['worktree', 'prune']);
    if (!existsSync(dir)) await git(repoRoot).raw(['worktree', 'add', '-q', dir, taskBranch]);
    return dir;
  }

  private resolveWithAgent(run: RunRecord, task: TaskRecord, conflict: MergeConflict, ctx: HookContext): Promise<boolean> {
    const agent = readGitOptions(run).resolveConflicts;
    if (!agent) return Promise.resolve(false);
    return resolveConflictsWithAgent({ engine: ctx.engine, logger: this.logger, agent, run, task, conflict });
  }

  private conflict(run: RunRecord, task: TaskRecord, conflict: MergeConflict): MergeConflictError {
    const files = conflict.files.join(', ');
    this.logger.warn(`run ${run.id}: ${task.key} conflicts with ${conflict.runBranch} in ${files}`);
    return new MergeConflictError(
      `merge conflict: ${task.key}'s changes conflict with ${conflict.runBranch} in ${files}. Nothing was merged. ` +
        `To go on: resolve the merge in progress in ${conflict.worktree} (git add the files, or commit), ` +
        `or merge ${conflict.taskBranch} into ${conflict.runBranch} yourself in ${conflict.runWorktree}; then orchestr8 retry ${run.id}`,
      conflict,
    );
  }

  async runFinished(run: RunRecord, _tasks: TaskRecord[], ctx: HookContext): Promise<{ delivery?: RunDelivery } | void> {
    return this.serial(`publish:${run.id}`, async () => {
      const patch: RunDelivery = {};
      try {
        await this.publish(run, patch, ctx.engine);
      } catch (error) {
        // The engine keeps the run unfinalized and calls again on its next start; what got
        // done (the push) and why it stopped are recorded now so the user can see them.
        if (Object.keys(patch).length) await ctx.recordDelivery(run.id, patch).catch(() => {});
        throw error;
      }
      return Object.keys(patch).length ? { delivery: patch } : undefined;
    });
  }

  /**
   * Pushes the branch and opens the pull request of a completed run. Each step checks what
   * is already done, so it can run again after a crash.
   */
  private async publish(run: RunRecord, patch: RunDelivery, source: RunSummarySource): Promise<void> {
    const state = this.state(run);
    if (!state.worktree || !state.branch || !state.repoRoot || !state.baseSha) return;
    const notes = [...(state.notes ?? [])];
    const addNote = (text: string) => {
      if (!notes.includes(text)) notes.push(text);
      this.note(run, patch, { notes: [...notes] });
    };
    if (state.changed === false) return; // found unchanged and removed before a restart
    if (await this.removeIfUnchanged(run, state)) {
      this.note(run, patch, { changed: false, commits: 0, noPullRequest: 'no changes' });
      addNote('the run changed no files: no commit, no branch, no pull request');
      return;
    }
    await this.removeIdleTaskWorktrees(state);
    if (run.state !== 'completed') {
      this.note(run, patch, { noPullRequest: `run ${run.state}` });
      addNote(`run ${run.state}: branch ${state.branch} kept locally, not pushed`);
      return;
    }
    if (state.pullRequest) {
      // Finished again after a Continue…: the new commits go to the same branch, which updates the
      // open pull request. (A push with nothing new is a no-op, so a repeated finalization costs nothing.)
      const remote = this.options.remote ?? 'origin';
      const pushed = await pushBranch(state.repoRoot, remote, state.branch);
      if (!pushed.pushed) return this.note(run, patch, { pushError: pushed.message });
      const refused = await this.rewriteBody(run, state.repoRoot, remote, state.pullRequest.number, source);
      if (refused) addNote(refused);
      return;
    }
    const ahead = await commitsAhead(state.repoRoot, state.baseSha, state.branch);
    this.note(run, patch, { changed: true, commits: ahead });
    const opts = readGitOptions(run);
    const remote = this.options.remote ?? 'origin';
    // A branch is pushed for its pull request, or when the workflow or a setting asks: decide first.
    const publisher = this.options.publisher;
    const hasRemote = !!(await remoteUrl(state.repoRoot, remote));
    const target = publisher && hasRemote ? await this.target(state.repoRoot, remote) : undefined;
    const base = opts.pullRequest.base ?? state.baseBranch;
    let noPr: { short: string; why: string } | undefined;
    if (!publisher) noPr = { short: this.options.noPublisherReason ?? 'no GitHub token', why: `${this.options.noPublisherReason ?? 'no GitHub token (ORCHESTR8_GITHUB_TOKEN or GITHUB_TOKEN)'}: no pull request opened` };
    else if (!hasRemote) noPr = { short: `no remote ${remote}`, why: `no git remote named "${remote}": no pull request opened` };
    else if (!target) noPr = { short: `${remote} is not on GitHub`, why: `remote ${remote} is not a GitHub repository and ORCHESTR8_GITHUB_REPO (owner/name) is not set: no pull request opened` };
    else if (!base) noPr = { short: 'no base branch', why: 'the run started from a detached commit and no pull_request.base is set: no pull request opened' };
    if (noPr && !(opts.push || this.options.push)) {
      this.note(run, patch, { noPullRequest: noPr.short });
      return addNote(`${noPr.why}; branch ${state.branch} kept local, not pushed (push: true in the workflow pushes it anyway)`);
    }
    const pushed = await pushBranch(state.repoRoot, remote, state.branch);
    if (!pushed.pushed) {
      this.logger.warn(`run ${run.id}: ${pushed.message}`);
      this.note(run, patch, { pushError: pushed.message, noPullRequest: noPr?.short ?? 'push failed' });
      addNote(pushed.message);
      return;
    }
    this.note(run, patch, { pushedTo: remote, pushError: undefined });
    if (noPr || !publisher || !target || !base) {
      // (the last three only narrow types: noPr is set exactly when one of them is missing)
      this.note(run, patch, { noPullRequest: noPr?.short });
      return addNote(`${noPr?.why ?? 'no pull request opened'}; branch pushed to ${remote}`);
    }
    try {
      const pr = await publisher.ensure({
        ...target,
        head: state.branch,
        base,
        title: opts.pullRequest.title ?? pullRequestTitle(run),
        body: await this.body(run, source),
        draft: opts.pullRequest.draft,
      });
      this.note(run, patch, { pullRequest: { url: pr.url, number: pr.number }, pullRequestError: undefined, noPullRequest: undefined });
      this.logger.info(`run ${run.id}: pull request ${pr.created ? 'opened' : 'found'}: ${pr.url}`);
      this.options.onPullRequest?.(run, pr);
    } catch (error) {
      const message = `opening the pull request failed: ${errorMessage(error)}`;
      this.note(run, patch, { pullRequestError: message });
      throw new Error(message);
    }
  }

  /**
   * A run that committed nothing (on its branch or any task's) leaves neither worktree nor
   * branch behind: hundreds of such runs would fill the user's branch list. True when removed.
   */
  private async removeIfUnchanged(run: RunRecord, state: RunDelivery): Promise<boolean> {
    const { repoRoot, branch, baseSha, worktree } = state;
    if (!repoRoot || !branch || !baseSha || !worktree) return false;
    const g = git(repoRoot);
    // Listed in the worktree's turn: a task worktree being made for a task cancelled as it
    // started (prepareTask holds the turn) is on the list once it exists.
    return this.serial(worktree, async () => {
      const branches = (await g.raw(['for-each-ref', '--format=%(refname:short)', `refs/heads/${branch}`, `refs/heads/${branch}--*`])).split('\n').filter(Boolean);
      if (!branches.includes(branch)) return false;
      for (const b of branches) if ((await commitsAhead(repoRoot, baseSha, b)) > 0) return false;
      for (const b of branches) if (b !== branch) await removeTaskWorktree(repoRoot, b);
      await removeWorktree(repoRoot, worktree);
      await g.raw(['branch', '-D', branch]);
      await rm(join(this.options.worktreeRoot, `${run.id}-tasks`), { recursive: true, force: true });
      this.logger.info(`run ${run.id}: changed nothing; removed its worktree and branch ${branch}`);
      return true;
    });
  }

  /** Task worktrees of a finished run that hold no work of their own (failed attempts) go; conflicted ones stay for the user. */
  private async removeIdleTaskWorktrees(state: RunDelivery): Promise<void> {
    const { repoRoot, branch, worktree } = state;
    if (!repoRoot || !branch || !worktree) return;
    await this.serial(worktree, async () => {
      const head = (await git(repoRoot).raw(['rev-parse', '-q', '--verify', `refs/heads/${branch}`]).catch(() => '')).trim();
      if (!head) return;
      for (const w of await listWorktrees(repoRoot)) {
        if (!w.branch?.startsWith(`${branch}--`)) continue;
        if ((await commitsAhead(repoRoot, head, w.branch)) === 0 && !(await mergeInProgress(w.path))) {
          await removeTaskWorktree(repoRoot, w.branch);
        }
      }
    });
  }

  /**
   * The pull request's description says what the run did (tasks, gates, totals): after a
   * Continue… it is written again, so it names the follow-up and the new totals. The same
   * text twice is harmless, so a finalization repeated after a crash just writes it again.
   * A failure is logged and resolved as the note to show on the run, not thrown: the commits
   * are pushed already, and a description GitHub refuses to change must not keep the run
   * from finishing.
   */
  private async rewriteBody(run: RunRecord, repoRoot: string, remote: string, number: number, source: RunSummarySource): Promise<string | undefined> {
    const publisher = this.options.publisher;
    const target = publisher ? await this.target(repoRoot, remote) : undefined;
    if (!publisher || !target) return undefined;
    try {
      await publisher.updateBody(target, number, await this.body(run, source));
      return undefined;
    } catch (error) {
      const message = `updating the description of pull request #${number} failed: ${errorMessage(error)}`;
      this.logger.warn(`run ${run.id}: ${message}`);
      return message;
    }
  }

  private async target(repoRoot: string, remote: string): Promise<GitHubRepo | undefined> {
    const configured = this.options.repo;
    if (configured) return parseRepoSlug(configured);
    const url = await remoteUrl(repoRoot, remote);
    return url ? parseGitHubRemote(url, this.options.githubHost) : undefined;
  }

  private async body(run: RunRecord, source: RunSummarySource): Promise<string> {
    const [status, gates, usage] = await Promise.all([source.status(run.id), source.gates(run.id), source.usage(run.id)]);
    const taskUsage: Record<string, Awaited<ReturnType<RunSummarySource['usage']>>> = {};
    await Promise.all(status.tasks.map(async (t) => void (taskUsage[t.id] = await source.usage(t.id))));
    return pullRequestBody({ run: status.run, tasks: status.tasks, gates, usage, taskUsage });
  }
}

/** `rel` when it names a folder inside the one it is relative to ('' for that folder itself), else undefined. */
function subPath(rel: string): string | undefined {
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : rel;
}
