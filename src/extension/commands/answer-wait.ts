import * as vscode from 'vscode';
import { waitQuestion } from '../../core/engine/wait-question.ts';
import { UserError } from '../engine-host.ts';
import { answeredMessage, answerPrompt, type WaitAnswer } from '../presenters/wait-prompts.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget, pickTarget } from './targets.ts';

/** "Approve…" and "Reject…" on a waiting task (its tree row, the toast that announced it, or the palette). */
export function registerAnswerWait(ctx: CommandContext): vscode.Disposable[] {
  return [
    registerCommand(ctx, COMMAND_IDS.approveWait, (arg) => answerWait(ctx, arg, 'approve')),
    registerCommand(ctx, COMMAND_IDS.rejectWait, (arg) => answerWait(ctx, arg, 'reject')),
  ];
}

async function answerWait(ctx: CommandContext, arg: unknown, answer: WaitAnswer): Promise<void> {
  const engine = await ctx.host.writable();
  const title = answer === 'approve' ? 'Approve' : 'Reject';
  const target = asTarget(arg) ?? (await pickTarget(engine, { title, runStates: ['running'], taskStates: ['waiting'] }));
  if (!target) return;
  const { run, tasks } = await engine.status(target.runId);
  const task = target.taskId ? tasks.find((t) => t.id === target.taskId) : tasks.find((t) => t.state === 'waiting');
  if (task?.state !== 'waiting') {
    throw new UserError(`Orchestr8: ${task ? `${task.name || task.key} is ${task.state}` : `${run.name} has no waiting task`}; there is nothing to ${answer}.`);
  }
  const question = await waitQuestion(engine, run, task);
  const payload = await vscode.window.showInputBox({ ...answerPrompt(answer, task, question), ignoreFocusOut: true });
  if (payload === undefined) return;
  await engine.signal(task.id, payload || undefined, answer === 'reject' ? { reject: true } : undefined);
  vscode.window.setStatusBarMessage(answeredMessage(answer, run, task, payload), 6000);
}
