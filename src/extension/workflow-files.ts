import * as vscode from 'vscode';
import type { WorkflowDef } from '../core/model/workflow.ts';
import { errorMessage } from '../core/util/logger.ts';
import { loadRuntime } from './runtime-loader.ts';

/** Where a workspace keeps its workflows. */
export const WORKFLOW_GLOB = '.orchestr8/workflows/*.{yaml,yml}';

export interface WorkflowFile {
  uri: vscode.Uri;
  relativePath: string;
  parsed: { workflow: WorkflowDef } | { error: string };
}

export async function findWorkflowFiles(folder: vscode.WorkspaceFolder): Promise<vscode.Uri[]> {
  const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, WORKFLOW_GLOB), undefined, 500);
  return uris.sort((a, b) => a.path.localeCompare(b.path));
}

/** Parses a workflow file; a file that doesn't parse comes back with the parser's message (file:line). */
export async function readWorkflowFile(uri: vscode.Uri): Promise<WorkflowFile> {
  const relativePath = vscode.workspace.asRelativePath(uri, false);
  try {
    // Unsaved edits win over the file on disk: launch what the user sees. `file` lets a run lead back to it.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    return { uri, relativePath, parsed: { workflow: { ...loadRuntime().parseWorkflow(text, uri.fsPath), file: uri.fsPath } } };
  } catch (error) {
    return { uri, relativePath, parsed: { error: errorMessage(error) } };
  }
}
