import * as path from 'node:path';
import * as vscode from 'vscode';
import { applyRun, discardRun, fileAt, runChanges } from '../../core/git/run-review.ts';
import type { RunRecord } from '../../core/model/records.ts';
import { UserError } from '../engine-host.ts';
import { COMMAND_IDS } from './command-ids.ts';
import { registerCommand, type CommandContext } from './command-context.ts';
import { openInMergeEditor } from './merge-editor.ts';
import { asTarget, pickTarget } from './targets.ts';

/** Read-only documents of a file at a commit (or index stage, `:1`–`:3`): `orchestr8-git:/<path>?<json {repo, ref}>`. */
export const GIT_CONTENT_SCHEME = 'orchestr8-git';

export function gitUri(repo: string, ref: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_CONTENT_SCHEME, path: `/${file}`, query: JSON.stringify({ repo, ref }) });
}

/** Serves `orchestr8-git:` documents (a file missing at that commit is empty: an added or deleted file's other side). */
export function registerGitContent(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(GIT_CONTENT_SCHEME, {
    async provideTextDocumentContent(uri) {
      const { repo, ref } = JSON.parse(uri.query) as { repo: string; ref: string };
      return (await fileAt(repo, ref, uri.path.slice(1))) ?? '';
    },
  });
}

async function targetRun(ctx: CommandContext, arg: unknown, title: string, states?: RunRecord['state'][]): Promise<RunRecord | undefined> {
  const engine = await ctx.host.readable();
  const target = asTarget(arg) ?? (await pickTarget(engine, { title, ...(states ? { runStates: states } : {}) }));
  if (!target) return undefined;
  return (await engine.status(target.runId)).run;
}

/**
 * "Review Changes": VS Code's multi-file diff editor between the run's base commit and its
 * branch; while the run's worktree exists its files are the right side, so a running run shows
 * what it has so far.
 */
export function registerReviewChanges(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.reviewChanges, async (arg) => {
    const run = await targetRun(ctx, arg, 'Review Changes');
    if (!run) return;
    const changes = await runChanges(run.id, run.delivery);
    if (!changes.files.length) throw new UserError(`${run.name} changed no files (branch ${changes.branch}).`);
    // An added file has no original and a deleted one no modified side (not an empty file).
    const resources = changes.files.map((f) => {
      const original = f.status === 'A' ? undefined : gitUri(changes.repoRoot, changes.baseSha, f.path);
      const modified =
        f.status === 'D'
          ? undefined
          : changes.worktree
            ? vscode.Uri.file(path.join(changes.worktree, f.path))
            : gitUri(changes.repoRoot, changes.headSha, f.path);
      return [vscode.Uri.file(path.join(changes.repoRoot, f.path)), original, modified];
    });
    const commits = `${changes.commits.length} commit${changes.commits.length === 1 ? '' : 's'}`;
    await vscode.commands.executeCommand(
      'vscode.changes',
      `${run.name}: ${changes.branch} (${commits}${run.state === 'running' ? ', so far' : ''})`,
      resources,
    );
  });
}

/**
 * "Apply to Working Tree": merges the run's branch into the current branch. A conflict changes
 * nothing; the files are named and the merge editor is offered (which does the merge with markers).
 */
export function registerApplyRun(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.applyRun, async (arg) => {
    const run = await targetRun(ctx, arg, 'Apply to Working Tree');
    if (!run) return;
    const out = await applyRun(run.id, run.delivery);
    if (out.applied) {
      const what = out.alreadyApplied
        ? `${out.branch} is already in ${out.into}.`
        : `applied ${out.branch} to ${out.into}: ${out.files.length} file${out.files.length === 1 ? '' : 's'} ` +
          `(${out.files.slice(0, 5).join(', ')}${out.files.length > 5 ? ', …' : ''}).`;
      ctx.logger.info(`run ${run.id}: ${what}`);
      void vscode.window.showInformationMessage(`Orchestr8: ${what}`);
      return;
    }
    ctx.logger.warn(`run ${run.id}: ${out.message}`);
    const actions = out.reason === 'content' ? ['Open in Merge Editor', 'Review Changes'] : ['Review Changes'];
    const pick = await vscode.window.showWarningMessage(`Orchestr8: ${out.message}`, ...actions);
    if (pick === 'Review Changes') await vscode.commands.executeCommand(COMMAND_IDS.reviewChanges, { runId: run.id });
    if (pick === 'Open in Merge Editor') {
      const merged = await applyRun(run.id, run.delivery, { keepConflicts: true });
      if (merged.applied || !merged.leftInTree) throw new UserError(merged.applied ? 'The branch applied cleanly after all.' : merged.message);
      await openInMergeEditor(vscode.Uri.file(path.join(run.delivery!.repoRoot!, merged.files[0]!)));
      void vscode.window.showInformationMessage(`Orchestr8: ${merged.message}`);
    }
  });
}

/** "Discard Run": after a modal confirmation, removes the run's worktrees, its branch and the branch it pushed. */
export function registerDiscardRun(ctx: CommandContext): vscode.Disposable {
  return registerCommand(ctx, COMMAND_IDS.discardRun, async (arg) => {
    const run = await targetRun(ctx, arg, 'Discard Run', ['completed', 'failed', 'cancelled']);
    if (!run) return;
    if (run.state === 'running') throw new UserError(`${run.name} is still running: cancel it first.`);
    const branch = run.delivery?.branch;
    if (!branch) throw new UserError(`${run.name} has no branch to discard.`);
    const pushed = run.delivery?.pushedTo ? ` and on ${run.delivery.pushedTo}` : '';
    const ok = await vscode.window.showWarningMessage(
      `Discard ${run.name}?`,
      { modal: true, detail: `Deletes the branch ${branch} here${pushed} and the run's worktrees, with any uncommitted work in them.` },
      'Discard',
    );
    if (ok !== 'Discard') return;
    const out = await discardRun(run.id, run.delivery);
    const said = [
      out.branch ? `deleted branch ${out.branch}` : undefined,
      out.remoteBranch ? `deleted ${out.remoteBranch}` : undefined,
      out.worktrees.length ? `removed ${out.worktrees.length} worktree(s)` : undefined,
      ...out.notes,
    ]
      .filter(Boolean)
      .join('; ');
    ctx.logger.info(`run ${run.id}: ${said}`);
    void vscode.window.showInformationMessage(`Orchestr8: ${said || 'nothing to remove'}.`);
    ctx.tree.refresh();
  });
}
