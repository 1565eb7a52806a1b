import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { HookContext, PreparedTask } from '../engine/run-hooks.ts';
import type { MergeConflict, RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { MergeConflictError, type TaskOutput } from '../runners/task-runner.ts';
import { crashPoint } from '../util/crash-points.ts';
import type { Logger } from '../util/logger.ts';
import { commitAll, git } from './git-workspace.ts';
import type { GitTurns } from './git-turns.ts';
import {
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
import { actionLabel } from '../model/action-label.ts';
import { subPath, taskOutputFile, taskWorktreeDir } from './worktree-paths.ts';

/** Trailer of the commit merging a task into the run's branch (the task's own commit carries `Orchestr8-Task`). */
const TASK_MERGE_TRAILER = 'Orchestr8-Merged-Task';

/** The commit subject's "what": the task's name when it has one of its own, else its kind. */
function whatTaskDid(task: TaskRecord): string {
  return task.name && task.name !== task.key ? task.name : actionLabel(task.action);
}

export interface TaskMergesOptions {
  worktreeRoot: string;
  logger: Logger;
  turns: GitTurns;
  /** Whether the task may change files, and so works in a worktree of its own. */
  taskWrites: (run: RunRecord, task: TaskRecord) => Promise<boolean>;
  /** Asks the workflow's conflict-resolving agent, if any; true when it resolved and committed the merge. */
  resolveWithAgent: (run: RunRecord, task: TaskRecord, conflict: MergeConflict, ctx: HookContext) => Promise<boolean>;
}

/**
 * A task's work on its own branch: the task worktree it works in, the commit of what it changed
 * and the merge into the run's branch, with a conflict left where the user (or an agent) can
 * resolve it. Every step finds what an earlier owner did, so it may run again after a crash.
 */
export class TaskMerges {
  constructor(private readonly options: TaskMergesOptions) {}

  /**
   * A task that may change files gets a worktree of its own, on a branch made from the run's
   * branch as it is now (holding the merged work of everything it needs). Work it committed
   * before (the owner died before the merge, or the merge conflicted and was resolved by hand)
   * is not done again: the attempt completes at once and `complete` merges it.
   */
  async prepare(run: RunRecord, task: TaskRecord, state: RunDelivery): Promise<PreparedTask | void> {
    if (!state.worktree || !state.branch || !state.repoRoot || !state.baseSha || !existsSync(state.worktree)) return;
    if (!(await this.options.taskWrites(run, task))) return;
    const { repoRoot, worktree, branch, baseSha } = state;
    const { turns, logger, worktreeRoot } = this.options;
    const taskBranch = taskBranchName(branch, task.key);
    return turns.serial(worktree, async () => {
      // The run may have finished (cancelled) and removed its worktree while this waited its turn.
      if (!existsSync(worktree)) return;
      await turns.recover(worktree);
      const found = await findTaskWork(repoRoot, baseSha, branch, taskBranch, task.id, task.followUps?.length ?? 0);
      if (found) {
        logger.info(`run ${run.id}: ${task.key}'s work is ${found === 'merged' ? 'in' : 'committed beside'} ${branch} already; not run again`);
        return { done: await this.savedOutput(run, task) };
      }
      const dir = taskWorktreeDir(worktreeRoot, run, task);
      await createTaskWorktree(repoRoot, dir, taskBranch, branch);
      const rel = state.worktreeCwd ? subPath(relative(worktree, state.worktreeCwd)) : undefined;
      return { cwd: rel ? join(dir, rel) : dir };
    });
  }

  /** Commits what the task changed and merges it into the run's branch; throws a `MergeConflictError` when it conflicts. */
  async complete(run: RunRecord, task: TaskRecord, result: TaskResult, state: RunDelivery, ctx: HookContext): Promise<void> {
    const { worktree, branch, repoRoot } = state;
    if (!worktree || !existsSync(worktree)) return;
    const { turns, logger } = this.options;
    const message = taskCommitMessage(
      task.key,
      whatTaskDid(task),
      `Orchestr8 run ${run.id} (${run.name}), task ${task.id}.`,
      task.id,
      task.followUps?.length ?? 0,
    );
    const taskBranch = branch ? taskBranchName(branch, task.key) : undefined;
    const own = repoRoot && taskBranch ? await worktreeOfBranch(repoRoot, taskBranch) : undefined;
    const hasBranch =
      repoRoot && taskBranch ? (await git(repoRoot).raw(['for-each-ref', '--format=%(refname)', `refs/heads/${taskBranch}`])).trim() !== '' : false;
    if (!repoRoot || !branch || !taskBranch || (!own && !hasBranch)) {
      // A task that shares the run's worktree: whatever it changed there is committed in its name.
      const sha = await turns.serial(worktree, async () => {
        await turns.recover(worktree);
        return commitAll(worktree, message);
      });
      if (sha) logger.info(`run ${run.id}: committed ${task.key} as ${sha.slice(0, 10)}`);
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
          if (marked.length && !(await this.options.resolveWithAgent(run, task, conflict, ctx))) throw this.conflict(run, task, conflict);
        }
      }
      await writeFile(
        this.outputFile(run, task),
        JSON.stringify({
          output: result.output,
          ...(result.data !== undefined ? { data: result.data } : {}),
          ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        }),
      );
      const sha = await commitAll(own, message);
      if (sha) logger.info(`run ${run.id}: committed ${task.key} as ${sha.slice(0, 10)} on ${taskBranch}`);
      crashPoint('task.committed');
    }
    const merge = () =>
      turns.serial(worktree, async () => {
        await turns.recover(worktree);
        return mergeTaskBranch({
          repoRoot,
          runWorktree: worktree,
          runBranch: branch,
          taskBranch,
          message: `${task.key}: merge into the run's branch\n\n${TASK_MERGE_TRAILER}: ${task.id}`,
        });
      });
    let outcome = await merge();
    if (!outcome.merged) {
      const where = own ?? (await this.conflictWorktree(run, task, taskBranch, repoRoot));
      await startConflictMerge(where, branch);
      const conflict = { files: outcome.files, taskBranch, worktree: where, runBranch: branch, runWorktree: worktree };
      // Resolved (and committed) in the task's worktree: the task's branch now holds the run's, so it merges.
      if (await this.options.resolveWithAgent(run, task, conflict, ctx)) outcome = await merge();
      if (!outcome.merged) throw this.conflict(run, task, { ...conflict, files: outcome.files });
    }
    await removeTaskWorktree(repoRoot, taskBranch);
    await rm(this.outputFile(run, task), { force: true });
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
    return taskOutputFile(this.options.worktreeRoot, run, task);
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

  private conflict(run: RunRecord, task: TaskRecord, conflict: MergeConflict): MergeConflictError {
    const files = conflict.files.join(', ');
    this.options.logger.warn(`run ${run.id}: ${task.key} conflicts with ${conflict.runBranch} in ${files}`);
    return new MergeConflictError(
      `merge conflict: ${task.key}'s changes conflict with ${conflict.runBranch} in ${files}. Nothing was merged. ` +
        `To go on: resolve the merge in progress in ${conflict.worktree} (git add the files, or commit), ` +
        `or merge ${conflict.taskBranch} into ${conflict.runBranch} yourself in ${conflict.runWorktree}; then orchestr8 retry ${run.id}`,
      conflict,
    );
  }
}
