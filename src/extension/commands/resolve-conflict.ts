import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { filesStillConflicted, stageIfResolved } from '../../core/git/conflict-markers.ts';
import { UserError } from '../engine-host.ts';
import { resolvePrompt } from '../presenters/conflict-texts.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { openInMergeEditor } from './merge-editor.ts';
import { asTarget, pickTarget } from './targets.ts';

const RETRY = 'Retry Task';

/**
 * "Resolve Merge Conflict…" on a task that failed because its work conflicts with the run's
 * branch: opens the files that still have conflicts in the task's worktree (the first in the merge
 * editor), then offers "Retry Task": once no file has markers left it stages them (what the merge
 * editor's "Complete Merge" would) and retries the task, which merges the resolved work.
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
    if (!existsSync(conflict.worktree)) throw new UserError(`The worktree of ${task.name || task.key} is gone (${conflict.worktree}); Retry runs the task again.`);

    let left = await filesStillConflicted(conflict.worktree, conflict.files);
    const uris = left.map((f) => vscode.Uri.file(path.join(conflict.worktree, f)));
    for (const uri of uris.slice(1)) await vscode.commands.executeCommand('vscode.open', uri, { preview: false });
    if (uris[0]) await openInMergeEditor(uris[0]);

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
