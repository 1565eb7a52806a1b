import * as vscode from 'vscode';
import { UserError } from '../engine-host.ts';
import { PermissionRequests } from '../permission-requests.ts';
import { ALLOW_FOR_RUN, ALLOW_ONCE, DENY, RAISE_BUDGET, STOP } from '../presenters/permission-texts.ts';
import { shortRunId } from '../presenters/format.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget, pickTarget } from './targets.ts';

/**
 * Allow Once / Allow for This Run / Deny… / Raise Budget / Stop on a task in `needs-input` (tree
 * rows' inline actions, the palette), Pause / Resume on a run, and the status bar item's "show
 * the requests again".
 */
export function registerPermissionCommands(ctx: CommandContext, requests: PermissionRequests): vscode.Disposable[] {
  const answer = (choice: string) => async (arg: unknown) => {
    const task = await requests.taskOf(arg);
    if (!task) return;
    if (task.state !== 'needs-input') throw new UserError(`${task.name || task.key} asks nothing (it is ${task.state}).`);
    await PermissionRequests.answer(await ctx.host.writable(), task, choice);
  };
  return [
    registerCommand(ctx, COMMAND_IDS.allowOnce, answer(ALLOW_ONCE)),
    registerCommand(ctx, COMMAND_IDS.allowForRun, answer(ALLOW_FOR_RUN)),
    registerCommand(ctx, COMMAND_IDS.deny, answer(DENY)),
    registerCommand(ctx, COMMAND_IDS.raiseBudget, answer(RAISE_BUDGET)),
    registerCommand(ctx, COMMAND_IDS.stopAtBudget, answer(STOP)),
    registerCommand(ctx, COMMAND_IDS.showRequests, () => requests.showAll()),
    registerCommand(ctx, COMMAND_IDS.pauseRun, async (arg) => {
      const engine = await ctx.host.writable();
      const target = asTarget(arg) ?? (await pickTarget(engine, { title: 'Pause Run', runStates: ['running'] }));
      if (!target) return;
      await engine.pause(target.runId);
      vscode.window.setStatusBarMessage(`Orchestr8: paused run ${shortRunId(target.runId)} (running tasks finish their turn)`, 4000);
    }),
    registerCommand(ctx, COMMAND_IDS.resumeRun, async (arg) => {
      const engine = await ctx.host.writable();
      const target = asTarget(arg) ?? (await pickTarget(engine, { title: 'Resume Run', runStates: ['paused'] }));
      if (!target) return;
      await engine.resume(target.runId);
      vscode.window.setStatusBarMessage(`Orchestr8: resumed run ${shortRunId(target.runId)}`, 4000);
    }),
  ];
}
