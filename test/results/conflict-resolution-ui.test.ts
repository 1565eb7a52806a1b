import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { filesStillConflicted, stageIfResolved } from '../../src/core/git/conflict-markers.ts';
import { fileAt } from '../../src/core/git/run-review.ts';
import { unmergedFiles } from '../../src/core/git/task-worktrees.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { resolvePrompt } from '../../src/extension/presenters/conflict-texts.ts';
import { taskFailedToast, workflowToast } from '../../src/extension/presenters/notification-policy.ts';
import { presentTask } from '../../src/extension/presenters/tree-items.ts';
import { runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { clashRepo, sh } from './git-fixtures.ts';

/**
 * What the editor's "Resolve Merge Conflict…" works from, on a real conflict: the task row and the
 * toasts offer it, the files left to resolve are read from the task's worktree, and once they
 * are resolved on disk (saved, not staged) the retry it offers completes the run.
 */
test('a real merge conflict: the row and the toasts offer Resolve Merge Conflict…, the files left are tracked on disk, and Retry Task completes the run', async () => {
  const { fx, edit } = clashRepo();
  const stateDir = tempDir('o8-state-');
  const results = setupResults({ stateDir });
  const engine = await Engine.open({ stateDir, cwd: fx.repo, hooks: [results.hooks], concurrency: 4, runners: [] });
  const attached = results.startWebhooks(engine);
  after(async () => {
    await attached.close();
    await engine.close();
  });
  const { runId } = await engine.launch({
    workflow: workflow(`
name: Clash
tasks:
  left: { run: "${edit('left', 'right')}" }
  right: { run: "${edit('right', 'left')}" }
`),
  });
  const failedRun = await runFinished(engine, runId);
  assert.equal(failedRun.state, 'failed');
  const { tasks } = await engine.status(runId);
  const loser = tasks.find((t) => t.state === 'failed')!;
  const conflict = loser.mergeConflict!;
  assert.ok(conflict, 'the failed task records its conflict');

  const row = presentTask(loser, Date.now());
  assert.equal(row.contextValue, 'task:failed:conflict');
  assert.match(row.tooltip, /^- Conflicts with orchestr8\/clash\S+ in: `config\.txt`$/m);
  const winner = tasks.find((t) => t.id !== loser.id)!;
  assert.equal(presentTask(winner, Date.now()).contextValue, 'task:completed:result', 'the task that merged offers no resolution');

  const resolve = { title: 'Resolve Merge Conflict…', command: 'orchestr8.resolveMergeConflict', args: [{ runId, taskId: loser.id }] };
  assert.deepEqual(taskFailedToast(failedRun, loser, loser.error!, 'failures')!.actions[0], resolve);
  assert.deepEqual(workflowToast(failedRun, tasks, 'failures')!.actions[0], resolve);

  // What the command opens, and what it says before and after the user resolves. The merge
  // editor's sides are the index stages: base, the task's change (:2), the run's branch (:3).
  assert.deepEqual(await filesStillConflicted(conflict.worktree, conflict.files), ['config.txt']);
  assert.deepEqual(await unmergedFiles(conflict.worktree), ['config.txt']);
  assert.equal(await fileAt(conflict.worktree, ':1', 'config.txt'), 'mode = old\n');
  assert.equal(await fileAt(conflict.worktree, ':2', 'config.txt'), `mode = ${loser.key}\n`);
  assert.equal(await fileAt(conflict.worktree, ':3', 'config.txt'), `mode = ${winner.key}\n`);
  assert.match(resolvePrompt(loser, conflict, ['config.txt']), /conflicts with .* in config\.txt\. Resolve it in the merge editor/);
  writeFileSync(join(conflict.worktree, 'config.txt'), 'mode = both\n'); // saved from the merge editor, not staged
  assert.deepEqual(await filesStillConflicted(conflict.worktree, conflict.files), []);
  assert.match(resolvePrompt(loser, conflict, []), /are resolved in its worktree\. Retry Task merges them/);

  // "Retry Task": stages the resolution (nothing staged while markers are left), then the retry command on the task.
  assert.deepEqual(await stageIfResolved(conflict.worktree, conflict.files), []);
  assert.equal(sh(conflict.worktree, 'diff', '--name-only', '--diff-filter=U'), '', 'nothing left unmerged');
  await engine.retry(loser.id);
  const retried = await runFinished(engine, runId);
  assert.equal(retried.state, 'completed', JSON.stringify((await engine.status(runId)).tasks.map((t) => [t.key, t.state, t.error])));
  assert.equal(sh(fx.repo, 'show', `${(await engine.status(runId)).run.delivery!.branch!}:config.txt`), 'mode = both');
});
