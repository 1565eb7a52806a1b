import * as vscode from 'vscode';
import type { Logger } from '../../core/util/logger.ts';
import type { OrchestrDocuments } from '../documents.ts';
import { EngineHost, UserError } from '../engine-host.ts';
import type { Settings } from '../settings.ts';
import type { RunsTree } from '../views/runs-tree.ts';
import type { CommandId } from './command-ids.ts';

/** What commands work with; built once in `activate`. */
export interface CommandContext {
  readonly extension: vscode.ExtensionContext;
  readonly host: EngineHost;
  readonly tree: RunsTree;
  readonly documents: OrchestrDocuments;
  readonly logger: Logger;
  readonly output: vscode.LogOutputChannel;
  settings(): Settings;
}

/** Registers a command whose failures become a message to the user (and a log line), never a silent rejection. */
export function registerCommand(ctx: CommandContext, id: CommandId, run: (...args: unknown[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await run(...args);
    } catch (error) {
      ctx.logger.error(`${id} failed`, error);
      const actions = error instanceof UserError ? error.actions : [];
      void vscode.window.showErrorMessage(EngineHost.describeError(error), ...actions.map((a) => a.title)).then((picked) => {
        const action = actions.find((a) => a.title === picked);
        if (action) void vscode.commands.executeCommand(action.command);
      });
      return undefined;
    }
  });
}

/** The workspace folder runs execute in (the store is per workspace; multi-root uses the first folder). */
export function workspaceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}
