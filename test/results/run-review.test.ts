import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { commitAll, createRunWorktree, pushBranch } from '../../src/core/git/git-workspace.ts';
import { applyRun, discardRun, isRunApplied, runChanges, runPatch } from '../../src/core/git/run-review.ts';
import type { RunDelivery } from '../../src/core/model/run-delivery.ts';
import { makeRepo, sh, type RepoFixture } from './git-fixtures.ts';

/** A run's delivery as the git hooks record it: a worktree on its own branch from `main`. */
async function runWithWorktree(fx: RepoFixture, id = 'run1'): Promise<RunDelivery> {
  const wt = await createRunWorktree({ repoRoot: fx.repo, dir: join(fx.root, 'state', 'worktrees', id), branch: `orchestr8/fix-${id}` });
  return {
    workspace: 'worktree',
    repoRoot: fx.repo,
    worktree: wt.worktree,
    worktreeCwd: wt.worktree,
    branch: wt.branch,
    baseSha: wt.baseSha,
    baseBranch: 'main',
  };
}

describe('review, apply and discard a run (real repositories)', () => {
  let fx: RepoFixture;
  beforeEach(() => {
    fx = makeRepo();
  });
  afterEach(() => fx.dispose());

  test('runChanges lists committed and uncommitted work of a running run; runPatch shows it', async () => {
    const d = await runWithWorktree(fx);
    writeFileSync(join(d.worktree!, 'README.md'), '# project\nchanged by the run\n');
    await commitAll(d.worktree!, 'edit readme');
    writeFileSync(join(d.worktree!, 'new.txt'), 'half-written\n');
    const changes = await runChanges('run1', d);
    assert.deepEqual(changes.files, [
      { status: 'M', path: 'README.md' },
      { status: 'A', path: 'new.txt' },
    ]);
    assert.equal(changes.commits.length, 1);
    assert.equal(changes.commits[0]!.subject, 'edit readme');
    const patch = await runPatch(changes);
    assert.match(patch, /\+changed by the run/);
    assert.match(patch, /\+half-written/);
  });

  test('apply merges the branch into the current branch; a second apply says it is already there', async () => {
    const d = await runWithWorktree(fx);
    writeFileSync(join(d.worktree!, 'feature.txt'), 'feature\n');
    await commitAll(d.worktree!, 'add feature');
    const out = await applyRun('run1', d);
    assert.equal(out.applied, true);
    assert.equal(readFileSync(join(fx.repo, 'feature.txt'), 'utf8'), 'feature\n');
    assert.equal(await isRunApplied(d), true);
    const again = await applyRun('run1', d);
    assert.ok(again.applied && again.alreadyApplied);
  });

  test('a conflicting apply changes nothing in the working tree and names the files', async () => {
    const d = await runWithWorktree(fx);
    writeFileSync(join(d.worktree!, 'README.md'), '# from the run\n');
    await commitAll(d.worktree!, 'run edit');
    // The user's branch moved on the same line.
    writeFileSync(join(fx.repo, 'README.md'), '# from the user\n');
    sh(fx.repo, 'commit', '-q', '-am', 'user edit');
    writeFileSync(join(fx.repo, 'notes.txt'), 'uncommitted, unrelated\n');
    const headBefore = sh(fx.repo, 'rev-parse', 'HEAD');
    const statusBefore = sh(fx.repo, 'status', '--porcelain');
    const out = await applyRun('run1', d);
    assert.equal(out.applied, false);
    assert.ok(!out.applied && out.reason === 'content' && !out.leftInTree);
    assert.deepEqual(out.files, ['README.md']);
    assert.equal(sh(fx.repo, 'rev-parse', 'HEAD'), headBefore);
    assert.equal(sh(fx.repo, 'status', '--porcelain'), statusBefore);
    assert.equal(readFileSync(join(fx.repo, 'README.md'), 'utf8'), '# from the user\n');
    assert.equal(existsSync(join(fx.repo, '.git', 'MERGE_HEAD')), false, 'no merge in progress');

    const kept = await applyRun('run1', d, { keepConflicts: true });
    assert.ok(!kept.applied && kept.leftInTree, 'the merge editor variant leaves the merge in the tree');
    assert.match(readFileSync(join(fx.repo, 'README.md'), 'utf8'), /<<<<<<< /);
  });

  test('uncommitted edits in a file the run changed block the apply and stay as they are', async () => {
    const d = await runWithWorktree(fx);
    writeFileSync(join(d.worktree!, 'README.md'), '# from the run\n');
    await commitAll(d.worktree!, 'run edit');
    writeFileSync(join(fx.repo, 'README.md'), '# local edit, not committed\n');
    const out = await applyRun('run1', d);
    assert.ok(!out.applied && out.reason === 'local-changes');
    assert.deepEqual(out.files, ['README.md']);
    assert.equal(readFileSync(join(fx.repo, 'README.md'), 'utf8'), '# local edit, not committed\n');
  });

  test('discard removes the worktree, the branch and the pushed branch', async () => {
    const d = await runWithWorktree(fx);
    writeFileSync(join(d.worktree!, 'x.txt'), 'x\n');
    await commitAll(d.worktree!, 'x');
    assert.ok((await pushBranch(fx.repo, 'origin', d.branch!)).pushed);
    d.pushedTo = 'origin';
    const out = await discardRun('run1', d);
    assert.deepEqual(out.worktrees, [d.worktree]);
    assert.equal(out.branch, d.branch);
    assert.equal(out.remoteBranch, `origin/${d.branch}`);
    assert.equal(existsSync(d.worktree!), false);
    assert.equal(sh(fx.repo, 'branch', '--list', d.branch!), '');
    assert.equal(sh(fx.remote, 'branch', '--list', d.branch!), '');
    await assert.rejects(runChanges('run1', d), /no longer exists/);
  });
});
