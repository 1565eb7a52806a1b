import * as vscode from 'vscode';
import type { EngineApi } from '../../core/engine/engine-api.ts';
import type { TaskRecord } from '../../core/model/records.ts';
import { UserError } from '../engine-host.ts';
import { shortRunId } from '../presenters/format.ts';
import type { CommandTarget } from '../presenters/notification-policy.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget, pickTarget } from './targets.ts';
import { oneLine } from '../../core/util/text-format.ts';

/** "Continue…" and "Show Transcript" on an agent task (its tree row, or the palette). */
export function registerAgentFollowUp(ctx: CommandContext): vscode.Disposable[] {
  return [
    registerCommand(ctx, COMMAND_IDS.continueTask, async (arg) => {
      const engine = await ctx.host.writable();
      const task = await agentTask(
        engine,
        asTarget(arg) ?? (await pickTarget(engine, { title: 'Continue', taskStates: ['completed', 'failed', 'cancelled'] })),
      );
      if (task?.action.kind !== 'agent') return;
      const { run } = await engine.status(task.runId);
      const prompt = await vscode.window.showInputBox({
        title: `Continue ${task.name || task.key}`,
        prompt:
          `A follow-up for ${task.action.agent}: it continues the same conversation, ` +
          `in the run's folder${run.delivery?.branch ? ` (branch ${run.delivery.branch})` : ''}.`,
        placeHolder: 'e.g. Also add a test for the error path',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'say what the agent should do next'),
      });
      if (!prompt?.trim()) return;
      await engine.followUp(task.id, prompt);
      const target: CommandTarget = { runId: task.runId, taskId: task.id };
      const pick = await vscode.window.showInformationMessage(
        `Orchestr8: continuing ${task.name || task.key} (run ${shortRunId(task.runId)}), attempt ${task.attempt + 1}: “${oneLine(prompt, 80)}”`,
        'Show Transcript',
      );
      if (pick) await vscode.commands.executeCommand(COMMAND_IDS.showTranscript, target);
    }),
    registerCommand(ctx, COMMAND_IDS.showTranscript, async (arg) => {
      const engine = await ctx.host.readable();
      const task = await agentTask(
        engine,
        asTarget(arg) ?? (await pickTarget(engine, { title: 'Show Transcript', taskStates: ['running', 'queued', 'completed', 'failed', 'cancelled'] })),
      );
      if (task) await ctx.documents.open({ kind: 'transcript', taskId: task.id }, `${task.name || task.key} transcript`);
    }),
  ];
}

/** The agent task a command names; a run with one agent task stands for it. */
async function agentTask(engine: EngineApi, target: CommandTarget | undefined): Promise<TaskRecord | undefined> {
  if (!target) return undefined;
  const { run, tasks } = await engine.status(target.runId);
  const agents = tasks.filter((t) => t.action.kind === 'agent');
  const task = target.taskId ? tasks.find((t) => t.id === target.taskId) : agents.length === 1 ? agents[0] : undefined;
  if (!task)
    throw new UserError(`Orchestr8: ${target.taskId ? `no task ${target.taskId}` : `${run.name} has ${agents.length} agent tasks; pick one in the tree`}.`);
  if (task.action.kind !== 'agent')
    throw new UserError(`Orchestr8: ${task.name || task.key} is a ${task.action.kind} task; only agent tasks have a conversation.`);
  return task;
}
