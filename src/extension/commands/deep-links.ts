import * as vscode from 'vscode';
import { deepLink, parseDeepLink, type DeepLinkTarget } from '../../core/model/deep-link.ts';
import { UserError } from '../engine-host.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { asTarget } from './targets.ts';

/**
 * Deep links (`vscode://orchestr8.orchestr8/run/<id>`, `…/task/<id>`, see core/model/deep-link.ts):
 * the URI handler VS Code calls for them, "Open Link…" for a link pasted or passed by a command
 * (the same path; it is how a browser-hosted editor, which may not route the OS's links, gets
 * there), and "Copy Link" on a row.
 */
export function registerDeepLinks(ctx: CommandContext): vscode.Disposable[] {
  return [
    vscode.window.registerUriHandler({
      handleUri: async (uri) => {
        try {
          await openLink(ctx, uri.toString());
        } catch (error) {
          ctx.logger.error(`could not open ${uri.toString()}`, error);
          void vscode.window.showErrorMessage(error instanceof UserError ? error.message : `Orchestr8: could not open ${uri.toString()}: ${String(error)}`);
        }
      },
    }),
    registerCommand(ctx, COMMAND_IDS.openLink, async (arg) => {
      const link =
        typeof arg === 'string'
          ? arg
          : await vscode.window.showInputBox({
              title: 'Open Orchestr8 Link',
              prompt: 'A link to a run or task, as webhooks, pull requests and `orchestr8 status` give it.',
              placeHolder: deepLink({ runId: '<run id>' }, vscode.env.uriScheme),
              ignoreFocusOut: true,
              validateInput: (v) => (v.trim() && !parseDeepLink(v) ? 'not a link to an Orchestr8 run or task' : undefined),
            });
      if (link) await openLink(ctx, link);
    }),
    registerCommand(ctx, COMMAND_IDS.copyLink, async (arg) => {
      const target = asTarget(arg);
      if (!target) throw new UserError('Orchestr8: Copy Link works on a run or task row.');
      const link = deepLink(target, vscode.env.uriScheme);
      await vscode.env.clipboard.writeText(link);
      vscode.window.setStatusBarMessage(`Orchestr8: copied ${link}`, 4000);
    }),
  ];
}

async function openLink(ctx: CommandContext, link: string): Promise<void> {
  const target = parseDeepLink(link);
  if (!target) throw new UserError(`Orchestr8: ${link} is not a link to a run or task.`);
  ctx.logger.info(`opening link ${link}`);
  await reveal(ctx, target);
}

/** Selects the row in the tree; a run the tree has not paged in opens as its summary document instead. */
async function reveal(ctx: CommandContext, target: DeepLinkTarget): Promise<void> {
  const engine = await ctx.host.readable();
  const { run } = await engine.status(target.runId).catch(() => {
    throw new UserError(`Orchestr8: no run ${target.runId} in this workspace; a link opens in a window on the workspace that ran it.`);
  });
  if (target.taskId)
    await engine.task(target.taskId).catch(() => {
      throw new UserError(`Orchestr8: ${run.name} has no task ${target.taskId}.`);
    });
  await ctx.tree.reveal(target);
  if (!ctx.tree.data?.nodeOf(target)) await ctx.documents.open({ kind: 'run', runId: run.id }, run.name);
}
