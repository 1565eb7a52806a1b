/**
 * The language client, bundled apart (`dist/workflow-client.cjs`): vscode-languageclient is
 * ~430 KB minified, four times the rest of the extension, so it loads only when the first
 * workflow file opens (see workflow-language-client.ts), not at activation.
 */
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

/** Starts the client on `serverModule` (dist/workflow-server.cjs) for documents of `languageId`. */
export function startWorkflowClient(
  serverModule: string,
  languageId: string,
  fileEvents: vscode.FileSystemWatcher,
  log?: vscode.LogOutputChannel,
): { started: Promise<void>; stop(): Promise<void> } {
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: languageId }],
    synchronize: { fileEvents },
    ...(log ? { outputChannel: log } : {}),
  };
  const client = new LanguageClient('orchestr8-workflow', 'Orchestr8 Workflows', serverOptions, clientOptions);
  return { started: client.start(), stop: () => client.stop() };
}
