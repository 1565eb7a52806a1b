import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GitRunHooks } from '../../src/core/git/git-run-hooks.ts';
import { commitAll, createRunWorktree, pushBranch } from '../../src/core/git/git-workspace.ts';
import { applyRun } from '../../src/core/git/run-review.ts';
import { cleanupRunWorktrees, describeRemoval, removeLeftovers, runLeftovers } from '../../src/core/git/worktree-cleanup.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { makeRepo, sh, type RepoFixture } from './git-fixtures.ts';
import { applyDelivery, runRecord } from './run-fixtures.ts';

/** A finished run with one commit on its own branch (and worktree), as the git hooks leave it. */
async function finishedRun(fx: RepoFixture, name: string, finishedAgoMs = 0): Promise<RunRecord> {
  const run = runRecord(fx.repo, {}, name);
  const wt = await createRunWorktree({
    repoRoot: fx.repo,
    dir: join(fx.root, 'state', 'worktrees', run.id),
    branch: `orchestr8/${name}-${run.id.slice(0, 7)}`,
  });
  writeFileSync(join(wt.worktree, `${name}.txt`), `${name}\n`);
  await commitAll(wt.worktree, name);
  run.state = 'completed';
  run.finishedAt = Date.now() - finishedAgoMs;
  applyDelivery(run, {
    workspace: 'worktree',
    repoRoot: fx.repo,
    worktree: wt.worktree,
    worktreeCwd: wt.worktree,
    branch: wt.branch,
    baseSha: wt.baseSha,
    baseBranch: 'main',
    changed: true,
    commits: 1,
  });
  return run;
}

describe('branch hygiene (real repositories)', () => {
  let fx: RepoFixture;
  beforeEach(() => {
    fx = makeRepo();
  });
  afterEach(() => fx.dispose());

  test('cleanup deletes the worktree, branch and pushed branch of an applied run, and unmerged ones past the retention; says what it removed', async () => {
    const applied = await finishedRun(fx, 'applied');
    const fresh = await finishedRun(fx, 'fresh', 60_000);
    const old = await finishedRun(fx, 'old', 40 * 86_400_000);
    assert.ok((await pushBranch(fx.repo, 'origin', applied.delivery!.branch!)).pushed);
    applyDelivery(applied, { pushedTo: 'origin' });
    // Applied onto a branch the user works on (not the run's base): still recognised as applied.
    sh(fx.repo, 'checkout', '-q', '-b', 'work');
    assert.ok((await applyRun(applied.id, applied.delivery)).applied);

    const out = await cleanupRunWorktrees([applied, fresh, old], { branchesOlderThanMs: 30 * 86_400_000 });
    assert.deepEqual(
      out.removed.map((r) => [r.runId, r.reason, r.branchDeleted, r.remoteBranch]),
      [
        [applied.id, 'applied', true, `origin/${applied.delivery!.branch}`],
        [old.id, 'expired', true, undefined],
      ],
    );
    assert.deepEqual(
      out.kept.map((k) => k.runId),
      [fresh.id],
    );
    for (const run of [applied, old]) {
      assert.equal(existsSync(run.delivery!.worktree!), false);
      assert.equal(sh(fx.repo, 'branch', '--list', run.delivery!.branch!), '');
    }
    assert.equal(sh(fx.remote, 'branch', '--list', applied.delivery!.branch!), '', 'the branch the run pushed is gone from origin');
    assert.ok(existsSync(fresh.delivery!.worktree!));
    assert.equal(sh(fx.repo, 'for-each-ref', '--format=%(refname:short)', `refs/heads/${fresh.delivery!.branch}`), fresh.delivery!.branch);
    assert.match(describeRemoval(out.removed[0]!), /^removed worktree .*, branch orchestr8\/applied-\S+, origin\/orchestr8\/applied-\S+ \(applied\)$/);

    // Without a retention, --all removes the fresh run's worktree but never its unmerged branch.
    const all = await cleanupRunWorktrees([fresh], { all: true });
    assert.deepEqual(
      all.removed.map((r) => [r.reason, r.branchDeleted]),
      [['requested', false]],
    );
    assert.equal(sh(fx.repo, 'for-each-ref', '--format=%(refname:short)', `refs/heads/${fresh.delivery!.branch}`), fresh.delivery!.branch);
  });

  test('what "Clear Finished Runs" offers: the leftovers of finished runs, which of them hold unmerged work, removed locally only', async () => {
    const merged = await finishedRun(fx, 'merged');
    const open = await finishedRun(fx, 'open');
    assert.ok((await pushBranch(fx.repo, 'origin', open.delivery!.branch!)).pushed);
    applyDelivery(open, { pushedTo: 'origin' });
    sh(fx.repo, 'merge', '-q', '--ff-only', merged.delivery!.branch!);
    const running = await finishedRun(fx, 'running');
    running.state = 'running';
    const found = await runLeftovers([merged, open, running]);
    assert.deepEqual(
      found.map((l) => [l.run.name, l.landed, !!l.worktree, !!l.branch]),
      [
        ['merged', true, true, true],
        ['open', false, true, true],
      ],
    );
    const out = await removeLeftovers(found);
    assert.deepEqual([out.worktrees, out.branches], [2, 2]);
    for (const run of [merged, open]) assert.equal(sh(fx.repo, 'for-each-ref', `refs/heads/${run.delivery!.branch}`), '');
    assert.ok(existsSync(running.delivery!.worktree!), 'a running run is never touched');
    assert.ok(sh(fx.remote, 'branch', '--list', open.delivery!.branch!), 'the pushed branch stays on the remote');
    assert.deepEqual(await runLeftovers([merged, open]), []);
  });

  test('the whole state folder inside the project is kept out of git status, even without its own .gitignore', async () => {
    const stateDir = join(fx.repo, '.orchestr8', 'state');
    mkdirSync(join(stateDir, 'journal'), { recursive: true });
    writeFileSync(join(stateDir, 'journal', '0000000000000001.journal'), 'x');
    writeFileSync(join(stateDir, 'owner.lock'), '{}');
    rmSync(join(stateDir, '.gitignore'), { force: true });
    const hooks = new GitRunHooks({ worktreeRoot: join(stateDir, 'worktrees') });
    const run = runRecord(fx.repo);
    const prepared = await hooks.prepareRun(run);
    assert.ok(prepared?.cwd && existsSync(prepared.cwd));
    assert.equal(sh(fx.repo, 'status', '--porcelain', '--untracked-files=all'), '', 'nothing of the state folder shows in git status');
  });
});
