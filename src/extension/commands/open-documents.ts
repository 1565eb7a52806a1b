import * as vscode from 'vscode';
import { UserError } from '../engine-host.ts';
import { pullRequestUrl } from '../presenters/run-links.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget, pickTarget } from './targets.ts';

/** "Open Result": a task's result, or a run's summary with every task's result. */
export function registerOpenResult(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.openResult, async (arg) => {
    const engine = await ctx.host.readable();
    const target = asTarget(arg) ?? (await pickTarget(engine, { title: 'Open Result', taskStates: ['completed', 'failed'], allowRun: true }));
    if (!target) return;
    if (target.taskId) {
      const task = await engine.task(target.taskId);
      await ctx.documents.open({ kind: 'result', taskId: task.id }, `${task.name || task.key} result`);
    } else {
      const { run } = await engine.status(target.runId);
      await ctx.documents.open({ kind: 'run', runId: run.id }, `${run.name} ${run.id.slice(0, 6)}`);
    }
  });
}

/** "Show Task Log": the task's log; it keeps growing while the task runs. */
export function registerShowLog(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.showLog, async (arg) => {
    const engine = await ctx.host.readable();
    let target =
      asTarget(arg) ?? (await pickTarget(engine, { title: 'Show Task Log', taskStates: ['running', 'completed', 'failed', 'cancelled', 'queued', 'waiting'] }));
    if (!target) return;
    if (!target.taskId) {
      // A run was given (e.g. from a toast about the whole run): show its first failed or running task.
      const { tasks } = await engine.status(target.runId);
      const task = tasks.find((t) => t.state === 'failed') ?? tasks.find((t) => t.state === 'running') ?? tasks[0];
      if (!task) throw new UserError('That run has no tasks.');
      target = { runId: target.runId, taskId: task.id };
    }
    const task = await engine.task(target.taskId!);
    await ctx.documents.open({ kind: 'log', taskId: task.id }, `${task.name || task.key} log`);
  });
}

/** "Open Pull Request": the PR a run opened (`run.delivery.pullRequest`), in the browser. */
export function registerOpenPullRequest(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.openPullRequest, async (arg) => {
    const engine = await ctx.host.readable();
    const target = asTarget(arg) ?? (await pickTarget(engine, { title: 'Open Pull Request' }));
    if (!target) return;
    const { run } = await engine.status(target.runId);
    const url = pullRequestUrl(run);
    if (!url) throw new UserError(`${run.name} has not opened a pull request.`);
    await vscode.env.openExternal(vscode.Uri.parse(url));
  });
}
