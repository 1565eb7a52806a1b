import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { filesStillConflicted, stageIfResolved } from '../../core/git/conflict-markers.ts';
import { unmergedFiles } from '../../core/git/task-worktrees.ts';
import type { MergeConflict } from '../../core/model/records.ts';
import { UserError } from '../engine-host.ts';
import { resolvePrompt } from '../presenters/conflict-texts.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { openInMergeEditor } from './merge-editor.ts';
import { gitUri } from './review-run.ts';
import { asTarget, pickTarget } from './targets.ts';

const RETRY = 'Retry Task';

/**
 * The merge editor on `file` of the task's worktree, built from git's index stages (base, the
 * task's side, the run's branch) so it does not depend on the git extension having opened that
 * worktree as a repository. `_open.mergeEditor` is VS Code's internal command that git's own
 * "Resolve in Merge Editor" calls; should it fail, or the file be no longer unmerged (its stages
 * gone), the file is opened and git's merge editor asked for, as for an apply's conflict.
 */
async function openMergeEditor(conflict: MergeConflict, taskName: string, file: string): Promise<void> {
  const output = vscode.Uri.file(path.join(conflict.worktree, file));
  if ((await unmergedFiles(conflict.worktree)).includes(file)) {
    const stage = (n: 1 | 2 | 3) => gitUri(conflict.worktree, `:${n}`, file);
    const opened = await vscode.commands
      .executeCommand('_open.mergeEditor', {
        base: stage(1),
        input1: { uri: stage(2), title: `Task ${taskName}`, description: conflict.taskBranch },
        input2: { uri: stage(3), title: "The run's branch", description: conflict.runBranch },
        output,
      })
      .then(
        () => true,
        () => false,
      );
    if (opened) return;
  }
  await openInMergeEditor(output);
}

/**
 * "Resolve Merge Conflict…" on a task that failed because its work conflicts with the run's
 * branch: opens the files that still have conflicts in the task's worktree (the first in the merge
 * editor: the task's side against the run's branch), then offers "Retry Task": once no file has
 * markers left it stages them (what the merge editor's "Complete Merge" would) and retries the
 * task, which merges the resolved work.
 */
export function registerResolveMergeConflict(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.resolveMergeConflict, async (arg) => {
    const engine = await ctx.host.readable();
    // A conflict fails only its task: the run may still be running its other tasks.
    const target = asTarget(arg) ?? (await pickTarget(engine, { title: 'Resolve Merge Conflict', runStates: ['running', 'failed'], taskStates: ['failed'] }));
    if (!target?.taskId) return;
    const { tasks } = await engine.status(target.runId);
    const task = tasks.find((t) => t.id === target.taskId);
    const conflict = task?.state === 'failed' ? task.mergeConflict : undefined;
    if (!task || !conflict) throw new UserError(`${task ? task.name || task.key : target.taskId} has no merge conflict to resolve.`);
    if (!existsSync(conflict.worktree))
      throw new UserError(`The worktree of ${task.name || task.key} is gone (${conflict.worktree}); Retry runs the task again.`);

    let left = await filesStillConflicted(conflict.worktree, conflict.files);
    for (const file of left.slice(1))
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path.join(conflict.worktree, file)), { preview: false });
    if (left[0]) await openMergeEditor(conflict, task.name || task.key, left[0]);

    let again = false;
    while ((await vscode.window.showInformationMessage(resolvePrompt(task, conflict, left, again), RETRY)) === RETRY) {
      left = await stageIfResolved(conflict.worktree, conflict.files);
      if (!left.length) {
        await vscode.commands.executeCommand(COMMAND_IDS.retry, { runId: task.runId, taskId: task.id });
        return;
      }
      again = true;
    }
  });
}
