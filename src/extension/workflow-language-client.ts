import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vscode from 'vscode';
import type * as ClientRuntime from './workflow-client-runtime.ts';

/** Language id of workflow files (package.json `contributes.languages`: `**∕.orchestr8/workflows/*.{yml,yaml}`). */
export const WORKFLOW_LANGUAGE_ID = 'orchestr8-workflow';

/** Agent definitions the server reads; a change re-checks open workflows (unknown-agent diagnostics). */
const AGENT_FILES = '{.orchestr8/agents,.claude/agents,plugins/*/agents}/**/*.md';

/**
 * Starts the workflow language server (`dist/workflow-server.cjs`, its own process,
 * free of `vscode`) the first time a workflow file is open, so windows without one
 * pay nothing, and activation never loads the client library (it is a bundle of its
 * own, `dist/workflow-client.cjs`). Diagnostics, completion and hover come from the
 * server; disposing stops it (shutdown + exit, not a kill).
 */
export function registerWorkflowLanguageClient(context: vscode.ExtensionContext, log?: vscode.LogOutputChannel): vscode.Disposable {
  let client: { stop(): Promise<void> } | undefined;
  let watcher: vscode.FileSystemWatcher | undefined;
  const isWorkflow = (doc: vscode.TextDocument) => doc.languageId === WORKFLOW_LANGUAGE_ID;

  const start = () => {
    if (client) return;
    try {
      // A computed path, so the bundler leaves the require alone and the client stays a bundle of its own.
      const here = path.dirname(fileURLToPath(import.meta.url));
      const runtime = createRequire(import.meta.url)(path.join(here, ['workflow-client', 'cjs'].join('.'))) as typeof ClientRuntime;
      watcher = vscode.workspace.createFileSystemWatcher(AGENT_FILES);
      const started = runtime.startWorkflowClient(context.asAbsolutePath('dist/workflow-server.cjs'), WORKFLOW_LANGUAGE_ID, watcher, log);
      client = started;
      started.started.catch((error: unknown) => fail(error));
    } catch (error) {
      fail(error);
    }
  };
  const fail = (error: unknown) => {
    log?.error(`the workflow language server did not start: ${(error as Error).stack ?? String(error)}`);
    void vscode.window.showErrorMessage(`Orchestr8: the workflow language server did not start: ${(error as Error).message}`);
  };

  const opened = vscode.workspace.onDidOpenTextDocument((doc) => isWorkflow(doc) && start());
  if (vscode.workspace.textDocuments.some(isWorkflow)) start();

  return new vscode.Disposable(() => {
    opened.dispose();
    watcher?.dispose();
    void client?.stop();
    client = undefined;
  });
}
