import path from 'node:path';
import * as vscode from 'vscode';
import { installCommandLine, writeShim, type ShimTarget } from '../command-line-shim.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';

/** The shim's folder, in the extension's global storage: the same path across extension updates. */
function shimDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'bin');
}

function shimTarget(context: vscode.ExtensionContext): ShimTarget {
  return { cliPath: context.asAbsolutePath(path.join('dist', 'cli.cjs')), fallbackNode: process.execPath };
}

/**
 * VS Code's terminals get the `orchestr8` command: the shim is (re)written and its folder put
 * first on the terminals' PATH, beside the `ORCHESTR8_STATE` the engine host sets.
 */
export async function shareCommandLineWithTerminals(ctx: Pick<CommandContext, 'extension' | 'logger'>): Promise<void> {
  try {
    const shim = await writeShim(shimDir(ctx.extension), shimTarget(ctx.extension));
    ctx.extension.environmentVariableCollection.prepend('PATH', `${path.dirname(shim)}${path.delimiter}`);
  } catch (error) {
    ctx.logger.error("could not put the orchestr8 command on the terminals' PATH", error);
  }
}

/** "Install Command Line": `orchestr8` in every shell, through a link in ~/.local/bin; says where it went. */
export function registerInstallCommandLine(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.installCommandLine, async () => {
    const shim = await writeShim(shimDir(ctx.extension), shimTarget(ctx.extension));
    const { installed, onPath } = await installCommandLine(shim);
    ctx.logger.info(`installed the orchestr8 command: ${installed} -> ${shim}`);
    const where = `Orchestr8: installed the \`orchestr8\` command as ${installed}.`;
    void vscode.window.showInformationMessage(onPath ? where : `${where} Add ${path.dirname(installed)} to your PATH to use it outside VS Code.`);
  });
}
