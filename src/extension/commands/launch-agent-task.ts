import * as vscode from 'vscode';
import { singleTaskFromInput } from '../../core/engine/launch-input.ts';
import { UserError } from '../engine-host.ts';
import { startedMessage } from '../presenters/notification-policy.ts';
import { listAgents } from '../agent-choices.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, workspaceFolder, type CommandContext } from './command-context.ts';
import { oneLine } from '../../core/util/text-format.ts';

/** "Launch Agent Task…": a prompt and an agent, run as a single-task run in the background. */
export function registerLaunchAgentTask(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.launchAgentTask, async () => {
    const engine = await ctx.host.writable();
    const folder = workspaceFolder();
    if (!folder) throw new UserError('Open a folder first: Orchestr8 keeps its runs per workspace folder.');

    const agents = await listAgents(folder, ctx.logger);
    let agent: string | undefined;
    if (agents.length) {
      const pick = await vscode.window.showQuickPick(
        agents.map((a) => ({ label: a.name, description: a.model ?? '', detail: a.description, name: a.name })),
        { title: 'Launch Agent Task (1/2)', placeHolder: 'Which agent?', matchOnDetail: true },
      );
      agent = pick?.name;
    } else {
      agent = await vscode.window.showInputBox({
        title: 'Launch Agent Task (1/2)',
        prompt: 'Agent name (no agent files found in .orchestr8/agents or .claude/agents)',
        value: 'general-purpose',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'an agent name is required'),
      });
    }
    if (!agent) return undefined;

    const prompt = await vscode.window.showInputBox({
      title: 'Launch Agent Task (2/2)',
      prompt: `What should ${agent} do?`,
      placeHolder: 'e.g. Add input validation to the signup form and a test for it',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'a prompt is required'),
    });
    if (!prompt) return undefined;

    const name = `${agent}: ${oneLine(prompt, 40)}`;
    const task = singleTaskFromInput({ agent, prompt, model: ctx.settings().defaultModel, name });
    const { runId, taskIds } = await engine.launch({ task, cwd: folder.uri.fsPath });
    ctx.logger.info(`launched agent task ${agent} as run ${runId}`);
    void vscode.window.showInformationMessage(startedMessage(name, runId), 'Show Run', 'Show Transcript').then((pick) => {
      if (pick === 'Show Run') void ctx.tree.reveal({ runId });
      // Follows the agent's conversation and tool calls as they happen.
      else if (pick) void vscode.commands.executeCommand(COMMAND_IDS.showTranscript, { runId, taskId: taskIds[0] });
    });
    return runId;
  });
}
