import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { agentMayWrite } from '../agents/agent-writes.ts';
import type { EngineApi } from '../engine/engine-api.ts';
import type { HookContext, PreparedTask, RunHooks } from '../engine/run-hooks.ts';
import { pullRequestBody } from '../github/pull-request-body.ts';
import type { MergeConflict, RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { errorMessage, silentLogger, type Logger } from '../util/logger.ts';
import { resolveConflictsWithAgent } from './conflict-resolver.ts';
import { GitTurns } from './git-turns.ts';
import { commitAll, createRunWorktree, excludeFromRepository, findRepository, isFolderInCommit } from './git-workspace.ts';
import { bringProjectFiles } from './project-files.ts';
import { readGitOptions, readGitState } from './run-options.ts';
import { publishRun, type PublishOptions, type RunPublishingContext } from './run-publishing.ts';
import { TaskMerges } from './task-merges.ts';
import { subPath } from './worktree-paths.ts';

/** The parts of the engine a pull request's summary reads. */
type RunSummarySource = Pick<EngineApi, 'gates' | 'usage' | 'status'>;

export interface GitRunHooksOptions extends PublishOptions {
  /** Folder under which each run's worktree is created (`<stateDir>/worktrees`). */
  worktreeRoot: string;
  logger?: Logger;
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

/**
 * Git and GitHub around a run: a worktree and branch per run, a commit per task that
 * changed files, and on success a push and a pull request. Everything it decides is
 * recorded in the run's delivery (`branch`, `worktree`, `pullRequest`, `notes`),
 * and every step may run again after a crash without doing anything twice.
 */
export class GitRunHooks implements RunHooks {
  /**
   * What prepareRun decided, for engines that hand later hooks a run record read before it;
   * forgotten when the run finishes (the engine has recorded it in the run's delivery by then).
   */
  private readonly known = new Map<string, RunDelivery>();
  private readonly turns: GitTurns;
  private readonly tasks: TaskMerges;
  private readonly logger: Logger;

  constructor(private readonly options: GitRunHooksOptions) {
    this.logger = options.logger ?? silentLogger;
    this.turns = new GitTurns(this.logger);
    this.tasks = new TaskMerges({
      worktreeRoot: options.worktreeRoot,
      logger: this.logger,
      turns: this.turns,
      taskWrites: options.taskWrites ?? defaultTaskWrites,
      resolveWithAgent: (run, task, conflict, ctx) => this.resolveWithAgent(run, task, conflict, ctx),
    });
  }

  private state(run: RunRecord): RunDelivery {
    return { ...this.known.get(run.id), ...readGitState(run) };
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
        notes: [
          `${run.cwd} is not committed in the repository at ${repoRoot} (git-ignored or new), so a worktree would not hold it: ` +
            'the run works in place, with no branch or pull request',
        ],
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
        commit: (message) => this.turns.serial(created.worktree, () => commitAll(created.worktree, message)),
      }).catch((error: unknown) => ({
        delivery: {},
        copied: [],
        notes: [`could not bring the project folder's agent files and listed files into the worktree: ${errorMessage(error)}`],
      }));
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

  prepareTask(run: RunRecord, task: TaskRecord): Promise<PreparedTask | void> {
    return this.tasks.prepare(run, task, this.state(run));
  }

  taskCompleted(run: RunRecord, task: TaskRecord, result: TaskResult, ctx: HookContext): Promise<void> {
    return this.tasks.complete(run, task, result, this.state(run), ctx);
  }

  async runFinished(run: RunRecord, _tasks: TaskRecord[], ctx: HookContext): Promise<{ delivery?: RunDelivery } | void> {
    const publishing: RunPublishingContext = {
      options: this.options,
      worktreeRoot: this.options.worktreeRoot,
      turns: this.turns,
      logger: this.logger,
      body: (r) => this.body(r, ctx.engine),
    };
    return this.turns.serial(`publish:${run.id}`, async () => {
      const patch: RunDelivery = {};
      try {
        await publishRun(publishing, run, this.state(run), patch);
      } catch (error) {
        // The engine keeps the run unfinalized and calls again on its next start; what got
        // done (the push) and why it stopped are recorded now so the user can see them.
        if (Object.keys(patch).length) {
          await ctx
            .recordDelivery(run.id, patch)
            .catch((writeError: unknown) =>
              this.logger.error(
                `run ${run.id}: could not record what its delivery did before it failed (${JSON.stringify(patch)}): ${errorMessage(writeError)}`,
              ),
            );
        }
        throw error;
      } finally {
        this.known.delete(run.id);
      }
      return Object.keys(patch).length ? { delivery: patch } : undefined;
    });
  }

  private resolveWithAgent(run: RunRecord, task: TaskRecord, conflict: MergeConflict, ctx: HookContext): Promise<boolean> {
    const agent = readGitOptions(run).resolveConflicts;
    if (!agent) return Promise.resolve(false);
    return resolveConflictsWithAgent({ engine: ctx.engine, logger: this.logger, agent, run, task, conflict });
  }

  private async body(run: RunRecord, source: RunSummarySource): Promise<string> {
    const [status, gates, usage] = await Promise.all([source.status(run.id), source.gates(run.id), source.usage(run.id)]);
    const taskUsage: Record<string, Awaited<ReturnType<RunSummarySource['usage']>>> = {};
    await Promise.all(status.tasks.map(async (t) => void (taskUsage[t.id] = await source.usage(t.id))));
    return pullRequestBody({ run: status.run, tasks: status.tasks, gates, usage, taskUsage });
  }
}
