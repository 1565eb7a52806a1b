import { createHash } from 'node:crypto';
import type { EngineApi } from '../engine/engine-api.ts';
import type { MergeConflict, RunRecord, TaskRecord } from '../model/records.ts';
import { DEFAULT_RETRY } from '../model/workflow.ts';
import { errorMessage, type Logger } from '../util/logger.ts';
import { git, identityArgs } from './git-workspace.ts';
import { conflictHunks, filesWithConflictMarkers, taskCommitMessage } from './task-worktrees.ts';

/** What the resolver needs of the engine: launching its run and following it. */
export type ConflictResolverEngine = Pick<EngineApi, 'launch' | 'status'>;

/**
 * `resolve_conflicts: <agent>`: that agent gets the conflict hunks as its prompt and works in
 * place in the task's worktree, where the merge of the run's branch is in progress (a run of
 * its own, with an id derived from the task's attempt, so a restarted owner waits for the same
 * one). True when it completed, left no conflict marker, and the merge is committed on the
 * task's branch.
 */
export async function resolveConflictsWithAgent(options: {
  engine: ConflictResolverEngine;
  logger: Logger;
  agent: string;
  run: RunRecord;
  task: TaskRecord;
  conflict: MergeConflict;
}): Promise<boolean> {
  const { engine, logger, agent, run, task, conflict } = options;
  const id = createHash('sha256').update(`${task.id}\nresolve-conflicts\n${task.attempt}`).digest('hex').slice(0, 12);
  try {
    const existing = await engine.status(id).catch(() => undefined);
    if (!existing) {
      const prompt =
        `The changes of task "${task.key}" conflict with the branch ${conflict.runBranch} in: ${conflict.files.join(', ')}. ` +
        `The merge is in progress in this folder. Edit each file so that both sides' changes are kept where they fit together, ` +
        `and remove every conflict marker (<<<<<<<, =======, >>>>>>>). The conflicts:\n\n${await conflictHunks(conflict.worktree, conflict.files)}`;
      await engine.launch({
        id,
        cwd: conflict.worktree,
        workflow: {
          name: `resolve conflicts of ${task.key}`,
          inputs: [],
          tasks: [{ id: 'resolve', needs: [], action: { kind: 'agent', agent, prompt }, retry: DEFAULT_RETRY, continueOnError: false, priority: 0 }],
          options: { workspace: 'in-place' },
        },
      });
      logger.info(`run ${run.id}: ${task.key} conflicts with ${conflict.runBranch}; agent ${agent} resolves it (run ${id})`);
    }
    let state = existing?.run.state;
    while (state !== 'completed' && state !== 'failed' && state !== 'cancelled') {
      await new Promise((r) => setTimeout(r, 100));
      state = (await engine.status(id)).run.state;
    }
    if (state !== 'completed') return false;
    // The agent edits files, it does not stage them: a file it left without markers is resolved.
    const marked = await filesWithConflictMarkers(conflict.worktree);
    if (marked.length) {
      logger.warn(`run ${run.id}: agent ${agent} left ${marked.join(', ')} unresolved`);
      return false;
    }
    const message = taskCommitMessage(
      task.key,
      `resolve conflicts with ${conflict.runBranch} (agent ${agent})`,
      `Orchestr8 run ${run.id} (${run.name}), task ${task.id}.`,
      task.id,
    );
    // A commit even when the resolution equals the task's side: it is the merge that makes the branches join.
    await git(conflict.worktree).raw([...(await identityArgs(conflict.worktree)), 'commit', '--no-verify', '-q', '-m', message]);
    return true;
  } catch (error) {
    logger.warn(`run ${run.id}: resolving ${task.key}'s conflicts failed: ${errorMessage(error)}`);
    return false;
  }
}
