import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

/** Language id of workflow files (package.json `contributes.languages`: `**∕.orchestr8/workflows/*.{yml,yaml}`). */
export const WORKFLOW_LANGUAGE_ID = 'orchestr8-workflow';

/** Agent definitions the server reads; a change re-checks open workflows (unknown-agent diagnostics). */
const AGENT_FILES = '{.orchestr8/agents,.claude/agents,plugins/*/agents}/**/*.md';

/**
 * Starts the workflow language server (`dist/workflow-server.cjs`, its own process,
 * free of `vscode`) the first time a workflow file is open, so windows without one
 * pay nothing. Diagnostics, completion and hover come from the server; the returned
 * disposable stops it.
 */
export function registerWorkflowLanguageClient(context: vscode.ExtensionContext, log?: vscode.LogOutputChannel): vscode.Disposable {
  let client: LanguageClient | undefined;
  let watcher: vscode.FileSystemWatcher | undefined;
  const isWorkflow = (doc: vscode.TextDocument) => doc.languageId === WORKFLOW_LANGUAGE_ID;

  const start = () => {
    if (client) return;
    const module = context.asAbsolutePath('dist/workflow-server.cjs');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.stdio },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
    };
    watcher = vscode.workspace.createFileSystemWatcher(AGENT_FILES);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: WORKFLOW_LANGUAGE_ID }],
      synchronize: { fileEvents: watcher },
      ...(log ? { outputChannel: log } : {}),
    };
    client = new LanguageClient('orchestr8-workflow', 'Orchestr8 Workflows', serverOptions, clientOptions);
    client.start().catch((error: unknown) => {
      void vscode.window.showErrorMessage(`Orchestr8: the workflow language server did not start: ${(error as Error).message}`);
    });
  };

  const opened = vscode.workspace.onDidOpenTextDocument((doc) => isWorkflow(doc) && start());
  if (vscode.workspace.textDocuments.some(isWorkflow)) start();

  return new vscode.Disposable(() => {
    opened.dispose();
    watcher?.dispose();
    // Deactivation waits for this: the server gets shutdown + exit rather than a kill.
    void client?.stop();
    client = undefined;
  });
}
