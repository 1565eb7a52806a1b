import * as vscode from 'vscode';
import { registerLaunchAgentTask } from './commands/launch-agent-task.ts';
import { registerLaunchWorkflow } from './commands/launch-workflow.ts';
import { registerClearFinished, registerOpenWorkflowFile, registerSetApiKey, registerSetWebhookSecret, registerViewCommands } from './commands/manage.ts';
import { API_KEY_SECRET } from './secret-keys.ts';
import { registerOpenPullRequest, registerOpenResult, registerShowLog } from './commands/open-documents.ts';
import { registerCancel, registerRetry } from './commands/run-control.ts';
import { cleanupWorktrees, describeRemoval } from '../core/git/worktree-cleanup.ts';
import { registerApplyRun, registerDiscardRun, registerGitContent, registerReviewChanges } from './commands/review-run.ts';
import { registerAnswerWait } from './commands/answer-wait.ts';
import { registerResolveMergeConflict } from './commands/resolve-conflict.ts';
import { registerDeepLinks } from './commands/deep-links.ts';
import { registerAgentFollowUp } from './commands/agent-follow-up.ts';
import { registerInstallCommandLine, shareCommandLineWithTerminals } from './commands/install-command-line.ts';
import type { CommandContext } from './commands/command-context.ts';
import { OrchestrDocuments } from './documents.ts';
import { EngineHost } from './engine-host.ts';
import { Notifier } from './notifier.ts';
import { readSettings } from './settings.ts';
import { registerLanguageModelTools } from './language-model-tools.ts';
import { loadRuntime } from './runtime-loader.ts';
import { registerWorkflowLanguageClient } from './workflow-language-client.ts';
import { channelLogger } from './vscode-logger.ts';
import { RunsTree } from './views/runs-tree.ts';
import { PermissionRequests } from './permission-requests.ts';
import { registerPermissionCommands } from './commands/permission-commands.ts';
import { StatusBar } from './views/status-bar.ts';

/**
 * Set by the bundle's first and last lines (esbuild banner and footer), so activation time includes
 * loading the bundle. (Between the load and `activate`, VS Code prepares the extension's context; that
 * wait is the host's, and is logged apart.)
 */
declare global {
  var __orchestr8LoadStart: number | undefined;
  var __orchestr8LoadEnd: number | undefined;
}

let host: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activateStart = performance.now();
  const output = vscode.window.createOutputChannel('Orchestr8', { log: true });
  const logger = channelLogger(output);
  const settings = () => readSettings();
  const shownWarnings = new Set<string>();

  host = new EngineHost(context, logger, settings, async () => context.secrets.get(API_KEY_SECRET));
  const documents = new OrchestrDocuments(host, logger);
  const tree = new RunsTree(host, logger, globalThis.__orchestr8LoadStart ?? activateStart);
  const notifier = new Notifier(host, settings, logger, () => tree.whenFirstRowsShown());
  const ctx: CommandContext = { extension: context, host, tree, documents, logger, output, settings };
  const requests = new PermissionRequests(host, tree, logger);

  context.subscriptions.push(
    output,
    host,
    documents,
    tree,
    new StatusBar(host, logger),
    notifier,
    registerLaunchWorkflow(ctx),
    registerLaunchAgentTask(ctx),
    registerCancel(ctx),
    registerRetry(ctx),
    registerOpenResult(ctx),
    registerShowLog(ctx),
    registerOpenPullRequest(ctx),
    registerSetApiKey(ctx),
    registerSetWebhookSecret(ctx),
    registerClearFinished(ctx),
    registerOpenWorkflowFile(ctx),
    registerInstallCommandLine(ctx),
    requests,
    ...registerPermissionCommands(ctx, requests),
    registerGitContent(),
    registerReviewChanges(ctx),
    registerApplyRun(ctx),
    registerDiscardRun(ctx),
    registerResolveMergeConflict(ctx),
    registerWorkflowLanguageClient(context, output),
    registerLanguageModelTools(host, () => loadRuntime().agentTools),
    ...registerViewCommands(ctx),
    ...registerAnswerWait(ctx),
    ...registerDeepLinks(ctx),
    ...registerAgentFollowUp(ctx),
    // Untrusted workspaces run nothing until the user trusts them; then start without a reload.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void host?.start()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('orchestr8.concurrency')) {
        void vscode.window.showInformationMessage('Orchestr8: the new concurrency applies after a window reload.', 'Reload Window').then((pick) => {
          if (pick) void vscode.commands.executeCommand('workbench.action.reloadWindow');
        });
      }
    }),
    host.onDidChangeState((state) => {
      if (state !== 'ready') return;
      // After the tree's first rows: a reload shows the runs first, then tidies up.
      void tree.whenFirstRowsShown().then(async () => {
        await pruneHistory(host!, settings().historyRetentionDays, logger);
        await pruneBranches(host!, settings().branchRetentionDays, logger);
      });
    }),
    // The runner already wrote it to the log (and each affected task's log); say it once where it is seen.
    host.onAgentWarning((warning) => {
      if (shownWarnings.has(warning)) return;
      shownWarnings.add(warning);
      void vscode.window.showWarningMessage(`Orchestr8: ${warning.split('\n')[0]}`, 'Show Output').then((pick) => {
        if (pick) output.show(true);
      });
    }),
  );

  // `orchestr8` in this window's terminals (a small file write, not awaited by activation).
  void shareCommandLineWithTerminals(ctx);

  // The engine opens in the background: activation must not wait for the store and resumed runs.
  const engineStart = performance.now();
  void host.start().then(() => {
    if (host?.state === 'ready' || host?.state === 'read-only') {
      logger.info(`engine started ${(performance.now() - engineStart).toFixed(1)} ms after activation`);
    }
  });

  const end = performance.now();
  const { __orchestr8LoadStart: loadStart, __orchestr8LoadEnd: loadEnd } = globalThis;
  const load = loadStart !== undefined && loadEnd !== undefined ? loadEnd - loadStart : undefined;
  const total = (load ?? 0) + (end - activateStart);
  // Read by the end-to-end test and docs/benchmarks.md: keep the wording stable.
  logger.info(
    `activated in ${total.toFixed(1)} ms (bundle load ${load === undefined ? 'n/a' : `${load.toFixed(1)} ms`}, ` +
      `activate() ${(end - activateStart).toFixed(1)} ms` +
      `${loadEnd !== undefined ? `; host context wait ${(activateStart - loadEnd).toFixed(1)} ms` : ''})`,
  );
}

/**
 * Closes the engine (after the notifier saved what this window handled), which interrupts running
 * tasks so they resume on next open and flushes the journal. VS Code waits for this promise (up to 5 s)
 * before it ends the extension host; disposing `context.subscriptions` joins the same close.
 */
export async function deactivate(): Promise<void> {
  await host?.stop();
  host = undefined;
}

/**
 * `orchestr8.git.branchRetentionDays`: at start, what `orchestr8 cleanup --older-than <days>d`
 * removes (merged, applied and unchanged runs' worktrees and branches, and unmerged ones older than that).
 */
async function pruneBranches(host: EngineHost, days: number, logger: ReturnType<typeof channelLogger>): Promise<void> {
  if (!days || !host.engine || host.readOnly) return;
  try {
    const out = await cleanupWorktrees(host.engine, { branchesOlderThanMs: days * 86_400_000 });
    for (const r of out.removed) logger.info(describeRemoval(r));
  } catch (error) {
    logger.error('could not clean up run branches', error);
  }
}

async function pruneHistory(host: EngineHost, days: number, logger: ReturnType<typeof channelLogger>): Promise<void> {
  if (!days || !host.engine || host.readOnly) return;
  try {
    const removed = await host.engine.clearFinished(Date.now() - days * 86_400_000);
    if (removed) logger.info(`removed ${removed} finished run(s) older than ${days} days`);
  } catch (error) {
    logger.error('could not prune history', error);
  }
}
