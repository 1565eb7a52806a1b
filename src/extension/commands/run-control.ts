import * as vscode from 'vscode';
import { shortRunId } from '../presenters/format.ts';
import { retryScope, retryMessage } from '../presenters/confirmations.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget, pickTarget } from './targets.ts';

/** "Cancel": a run (all its unfinished tasks) or one task (and its dependents). */
export function registerCancel(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.cancel, async (arg) => {
    const engine = await ctx.host.writable();
    const target =
      asTarget(arg) ??
      (await pickTarget(engine, {
        title: 'Cancel',
        runStates: ['running', 'paused'],
        taskStates: ['pending', 'queued', 'running', 'waiting', 'needs-input'],
        allowRun: true,
      }));
    if (!target) return;
    await engine.cancel(target.taskId ?? target.runId);
    vscode.window.setStatusBarMessage(`Orchestr8: cancelled ${target.taskId ?? `run ${shortRunId(target.runId)}`}`, 4000);
  });
}

/** "Retry": a run's failed, cancelled and skipped tasks, or one task and its dependents. */
export function registerRetry(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.retry, async (arg) => {
    const engine = await ctx.host.writable();
    const target =
      asTarget(arg) ??
      (await pickTarget(engine, { title: 'Retry', runStates: ['failed', 'cancelled'], taskStates: ['failed', 'cancelled', 'skipped'], allowRun: true }));
    if (!target) return;
    const { run, tasks } = await engine.status(target.runId);
    const restarted = retryScope(tasks, target.taskId);
    await engine.retry(target.taskId ?? target.runId);
    // A toast, not a status-bar flash: a retry clicked from a failure toast must visibly answer.
    void vscode.window.showInformationMessage(retryMessage(run, restarted));
  });
}
