import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRunWorktree, findRepository, pushBranch } from '../../src/core/git/git-workspace.ts';
import { makeRepo, sh } from './git-fixtures.ts';

/** Sets environment variables for the duration of `fn`, as a shell (or `npm exec`) would have them. */
async function withEnv(vars: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test("git works with the EDITOR that npm and npx export, and with the user's own SSH command", async () => {
  const fx = makeRepo();
  try {
    // `npm exec` sets EDITOR; simple-git refuses to pass it on, which made every git call fail
    // and runs silently fall back to working in the user's tree.
    await withEnv({ EDITOR: 'vi', VISUAL: 'vi', PAGER: 'less', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes' }, async () => {
      assert.equal(await findRepository(fx.repo), fx.repo);
      const created = await createRunWorktree({ repoRoot: fx.repo, dir: join(fx.root, 'wt'), branch: 'orchestr8/env-test' });
      assert.equal(created.branch, 'orchestr8/env-test');
      sh(created.worktree, 'commit', '-q', '--allow-empty', '-m', 'work');
      assert.deepEqual(await pushBranch(fx.repo, 'origin', 'orchestr8/env-test'), { pushed: true, remote: 'origin' });
    });
    assert.match(sh(fx.remote, 'branch', '--list', 'orchestr8/*'), /orchestr8\/env-test/);
  } finally {
    fx.dispose();
  }
});
