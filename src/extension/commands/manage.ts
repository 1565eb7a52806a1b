import * as vscode from 'vscode';
import type { EngineApi } from '../../core/engine/engine-api.ts';
import { removeLeftovers, runLeftovers } from '../../core/git/worktree-cleanup.ts';
import type { RunRecord } from '../../core/model/records.ts';
import { UserError } from '../engine-host.ts';
import { clearFinishedQuestion } from '../presenters/confirmations.ts';
import { findWorkflowFiles } from '../workflow-files.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, workspaceFolder, type CommandContext } from './command-context.ts';
import { asTarget } from './targets.ts';
import { API_KEY_SECRET, WEBHOOK_SECRET } from '../secret-keys.ts';

/** "Set Anthropic API Key": stored in VS Code's SecretStorage; an empty entry removes it. */
export function registerSetApiKey(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.setApiKey, async () => {
    const key = await vscode.window.showInputBox({
      title: 'Anthropic API Key',
      prompt: 'Used by agent tasks. Kept in VS Code’s secret storage; leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
      placeHolder: 'sk-ant-…',
      validateInput: (v) => (/\s/.test(v.trim()) ? 'an API key has no spaces' : undefined),
    });
    if (key === undefined) return;
    if (key.trim()) {
      await ctx.extension.secrets.store(API_KEY_SECRET, key.trim());
      void vscode.window.showInformationMessage('Orchestr8: Anthropic API key saved.');
    } else {
      await ctx.extension.secrets.delete(API_KEY_SECRET);
      void vscode.window.showInformationMessage('Orchestr8: Anthropic API key removed.');
    }
  });
}

/**
 * "Set Webhook Signing Secret": kept in SecretStorage; deliveries to `orchestr8.webhooks.urls` carry an
 * HMAC of their body with it. Applies when the engine next opens (reload the window).
 */
export function registerSetWebhookSecret(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.setWebhookSecret, async () => {
    const secret = await vscode.window.showInputBox({
      title: 'Webhook Signing Secret',
      prompt: 'Signs webhook deliveries (HMAC-SHA256). Kept in VS Code’s secret storage; leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
    });
    if (secret === undefined) return;
    if (secret.trim()) await ctx.extension.secrets.store(WEBHOOK_SECRET, secret.trim());
    else await ctx.extension.secrets.delete(WEBHOOK_SECRET);
    const pick = await vscode.window.showInformationMessage(
      `Orchestr8: webhook secret ${secret.trim() ? 'saved' : 'removed'}; it applies after a window reload.`,
      'Reload Window',
    );
    if (pick) await vscode.commands.executeCommand('workbench.action.reloadWindow');
  });
}

/**
 * "Clear Finished Runs": removes completed, failed and cancelled runs from history, and offers to
 * remove the worktrees and branches they left (saying how many hold work not merged anywhere).
 */
export function registerClearFinished(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.clearFinished, async () => {
    const engine = await ctx.host.writable();
    const finished = await finishedRuns(engine);
    if (finished.length === 0) {
      void vscode.window.showInformationMessage('Orchestr8: no finished runs to clear.');
      return;
    }
    const counts = { completed: 0, failed: 0, cancelled: 0 };
    for (const run of finished) counts[run.state as keyof typeof counts] += 1;
    const leftovers = await runLeftovers(finished);
    let code = '';
    if (leftovers.length) {
      const unmerged = leftovers.filter((l) => !l.landed).length;
      const branches = leftovers.filter((l) => l.branch).length;
      const worktrees = leftovers.filter((l) => l.worktree).length;
      const landed = unmerged ? `; ${unmerged} of them hold work that is not merged or applied anywhere and would be lost` : ', all merged or applied';
      const pick = await vscode.window.showWarningMessage(
        clearFinishedQuestion(counts),
        {
          modal: true,
          detail: `They left ${branches} branch${branches === 1 ? '' : 'es'} and ${worktrees} worktree(s)${landed}. Branches pushed to a remote stay there.`,
        },
        'Clear Runs and Branches',
        'Clear Runs Only',
      );
      if (!pick) return;
      if (pick === 'Clear Runs and Branches') {
        const out = await removeLeftovers(leftovers);
        code = `, ${out.branches} branch${out.branches === 1 ? '' : 'es'} and ${out.worktrees} worktree(s)`;
        for (const note of out.notes) ctx.logger.warn(note);
      }
    } else {
      const pick = await vscode.window.showWarningMessage(clearFinishedQuestion(counts), { modal: true }, 'Remove');
      if (pick !== 'Remove') return;
    }
    const removed = await engine.clearFinished();
    ctx.logger.info(`cleared ${removed} finished run(s)${code}`);
    vscode.window.setStatusBarMessage(`Orchestr8: removed ${removed} finished run${removed === 1 ? '' : 's'}${code}`, 4000);
  });
}

async function finishedRuns(engine: Pick<EngineApi, 'list'>): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await engine.list({ limit: 200, offset, states: ['completed', 'failed', 'cancelled'] });
    runs.push(...page.runs);
    if (page.runs.length < 200) return runs;
  }
}

/** "Open Workflow File": the file a run came from, or one picked from .orchestr8/workflows. */
export function registerOpenWorkflowFile(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.openWorkflowFile, async (arg) => {
    const target = asTarget(arg);
    if (target) {
      const engine = await ctx.host.readable();
      const { run } = await engine.status(target.runId);
      if (!run.file) throw new UserError(`${run.name} was not launched from a workflow file.`);
      await vscode.window.showTextDocument(vscode.Uri.file(run.file));
      return;
    }
    const folder = workspaceFolder();
    if (!folder) throw new UserError('Open a folder first.');
    const uris = await findWorkflowFiles(folder);
    if (!uris.length) throw new UserError('No workflows in .orchestr8/workflows/ yet.');
    const picked = await vscode.window.showQuickPick(
      uris.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, false), uri })),
      { title: 'Open Workflow File' },
    );
    if (picked) await vscode.window.showTextDocument(picked.uri);
  });
}

/** View plumbing: refresh, "load more" rows, and the output channel. */
export function registerViewCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    registerCommand(ctx, COMMAND_IDS.refresh, () => ctx.tree.refresh()),
    registerCommand(ctx, COMMAND_IDS.loadMore, (node) => {
      if (node && typeof node === 'object' && (node as { kind?: unknown }).kind === 'more') ctx.tree.loadMore(node as Parameters<typeof ctx.tree.loadMore>[0]);
    }),
    registerCommand(ctx, COMMAND_IDS.showOutput, () => ctx.output.show(true)),
  ];
}
