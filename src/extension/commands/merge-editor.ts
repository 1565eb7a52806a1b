import * as vscode from 'vscode';

/**
 * How long after opening a conflicted file the git extension is asked for its merge editor: its
 * `git.openMergeEditor` works only once git has noticed the conflict, which follows the open.
 */
const GIT_NOTICES_MS = 1500;

/**
 * Opens `file`, which holds conflict markers, then VS Code's merge editor on it. The file itself
 * comes first so the user has the conflict even where the merge editor cannot open (git's own
 * "Resolve in Merge Editor" is then on the file's editor); the merge editor's "Complete Merge"
 * stages the file.
 */
export async function openInMergeEditor(file: vscode.Uri): Promise<void> {
  await vscode.commands.executeCommand('vscode.open', file, { preview: false });
  setTimeout(() => void vscode.commands.executeCommand('git.openMergeEditor', file).then(undefined, () => undefined), GIT_NOTICES_MS);
}
