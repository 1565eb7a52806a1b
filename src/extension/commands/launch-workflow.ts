import * as vscode from 'vscode';
import type { WorkflowDef } from '../../core/model/workflow.ts';
import { UserError } from '../engine-host.ts';
import { inputPrompts, validateInput, workflowPick } from '../presenters/launch-prompts.ts';
import { startedMessage } from '../presenters/notification-policy.ts';
import { findWorkflowFiles, readWorkflowFile, type WorkflowFile } from '../workflow-files.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, workspaceFolder, type CommandContext } from './command-context.ts';

/**
 * "Launch Workflow…": pick a file under .orchestr8/workflows (or use the one the command was invoked
 * on), ask for its inputs, launch, and hand control back at once with "Started …".
 */
export function registerLaunchWorkflow(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.launchWorkflow, async (arg) => {
    const engine = await ctx.host.writable();
    const folder = workspaceFolder();
    if (!folder) throw new UserError('Open a folder first: Orchestr8 keeps its runs per workspace folder.');

    const file = arg instanceof vscode.Uri ? await readWorkflowFile(arg) : await pickWorkflow(folder);
    if (!file) return undefined;
    if ('error' in file.parsed) {
      const open = await vscode.window.showErrorMessage(`${file.relativePath} does not parse: ${file.parsed.error}`, 'Open File');
      if (open) await vscode.window.showTextDocument(file.uri);
      return undefined;
    }
    const workflow = file.parsed.workflow;
    const inputs = await askInputs(workflow);
    if (!inputs) return undefined;

    const { runId } = await engine.launch({ workflow, inputs, cwd: folder.uri.fsPath });
    ctx.logger.info(`launched ${workflow.name} as run ${runId}`);
    // Not awaited: the toast must not hold the command (and so the palette) until dismissed.
    void vscode.window.showInformationMessage(startedMessage(workflow.name, runId), 'Show Run').then((pick) => {
      if (pick) void ctx.tree.reveal({ runId });
    });
    return runId;
  });
}

async function pickWorkflow(folder: vscode.WorkspaceFolder): Promise<WorkflowFile | undefined> {
  const uris = await findWorkflowFiles(folder);
  if (!uris.length) {
    const create = await vscode.window.showInformationMessage('No workflows in .orchestr8/workflows/ yet.', 'Create Example');
    if (create) await createExample(folder);
    return undefined;
  }
  const files = await Promise.all(uris.map(readWorkflowFile));
  const picked = await vscode.window.showQuickPick(
    files.map((file) => ({ ...workflowPick(file.relativePath, file.parsed), file })),
    { title: 'Launch Workflow', placeHolder: 'Which workflow?', matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.file;
}

/** One input box per declared input; undefined when the user escapes any of them. */
async function askInputs(workflow: WorkflowDef): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = {};
  for (const prompt of inputPrompts(workflow)) {
    const value = await vscode.window.showInputBox({
      title: prompt.title,
      prompt: prompt.prompt,
      value: prompt.value,
      ignoreFocusOut: true,
      validateInput: (v) => validateInput(prompt, v),
    });
    if (value === undefined) return undefined;
    // An optional input left empty takes its default in the engine rather than an empty string.
    if (value !== '' || prompt.required) values[prompt.name] = value;
  }
  return values;
}

const EXAMPLE = `name: hello
description: A first workflow - two shell steps, the second uses the first one's output
inputs:
  who:
    description: Whom to greet
    default: world
tasks:
  greet:
    run: echo "Hello, \${inputs.who}"
  shout:
    needs: [greet]
    run: echo "\${tasks.greet.result}!" | tr a-z A-Z
`;

async function createExample(folder: vscode.WorkspaceFolder): Promise<void> {
  const uri = vscode.Uri.joinPath(folder.uri, '.orchestr8', 'workflows', 'hello.yaml');
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(EXAMPLE));
  await vscode.window.showTextDocument(uri);
}
