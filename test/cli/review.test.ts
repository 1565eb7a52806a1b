import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { makeRepo, sh } from '../results/git-fixtures.ts';
import { cliMissingReason, orchestr8 } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/review.test.ts ${skip} ***\n`);

const EDIT = 'name: edit\ntasks:\n  write:\n    run: printf "# from the run\\n" > README.md && echo feature > feature.txt\n';

const json = (text: string) => JSON.parse(text);

describe('orchestr8 diff, apply and discard on a real repository', { skip }, () => {
  const fixture = makeRepo({ remote: false });
  after(() => fixture.dispose());
  const repo = fixture.repo;
  const state = path.join(fixture.root, 'state');
  const o8 = (...args: string[]) => orchestr8(repo, ['--state', state, ...args]);
  fs.writeFileSync(path.join(fixture.root, 'edit.yaml'), EDIT);

  async function runEdit(file = 'edit.yaml'): Promise<{ id: string; branch: string }> {
    const done = await o8('--json', 'run', path.join(fixture.root, file));
    assert.equal(done.code, 0, done.stderr);
    const { run } = json(done.stdout);
    return { id: run.id, branch: run.delivery.branch };
  }

  it("diff shows the run's files and patch; --json lists them with the base commit", { timeout: 60_000 }, async () => {
    const { id, branch } = await runEdit();
    const names = await o8('diff', id, '--name-only');
    assert.equal(names.code, 0, names.stderr);
    assert.deepEqual(names.stdout.trim().split('\n'), ['M\tREADME.md', 'A\tfeature.txt']);
    const patch = await o8('diff', id);
    assert.match(patch.stdout, /^\+# from the run$/m);
    const j = json((await o8('--json', 'diff', id)).stdout);
    assert.equal(j.branch, branch);
    assert.equal(j.baseSha, sh(repo, 'rev-parse', 'main'));
    assert.deepEqual(
      j.files.map((f: { path: string }) => f.path),
      ['README.md', 'feature.txt'],
    );
  });

  it('apply that conflicts with a local edit changes nothing, names the file and exits 5; after committing elsewhere it applies', {
    timeout: 60_000,
  }, async () => {
    const { id, branch } = await runEdit();
    fs.writeFileSync(path.join(repo, 'README.md'), '# my local edit\n');
    const before = sh(repo, 'status', '--porcelain');
    const head = sh(repo, 'rev-parse', 'HEAD');
    const refused = await o8('apply', id);
    assert.equal(refused.code, 5, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /README\.md/);
    assert.match(refused.stderr, /Nothing was changed/);
    assert.equal(sh(repo, 'status', '--porcelain'), before);
    assert.equal(sh(repo, 'rev-parse', 'HEAD'), head);
    assert.equal(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'), '# my local edit\n');
    assert.equal(fs.existsSync(path.join(repo, 'feature.txt')), false);

    // Committed, the same edit is a content conflict: still nothing changes.
    sh(repo, 'commit', '-q', '-am', 'my edit');
    const conflict = await o8('--json', 'apply', id);
    assert.equal(conflict.code, 5);
    const out = json(conflict.stdout);
    assert.equal(out.applied, false);
    assert.equal(out.reason, 'content');
    assert.deepEqual(out.files, ['README.md']);
    assert.equal(sh(repo, 'status', '--porcelain'), '');
    assert.equal(fs.existsSync(path.join(repo, '.git', 'MERGE_HEAD')), false);

    // Back to where the run started: the apply goes through.
    sh(repo, 'reset', '-q', '--hard', 'HEAD~1');
    const applied = await o8('apply', id);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, new RegExp(`applied ${branch.replace(/[/.]/g, '\\$&')} to main`));
    assert.equal(fs.readFileSync(path.join(repo, 'feature.txt'), 'utf8'), 'feature\n');
  });

  it('discard asks for --yes without a terminal, then removes the worktree and the branch', { timeout: 60_000 }, async () => {
    // Its own file: the earlier apply put edit.yaml's changes on main, and a run that changes nothing keeps no branch.
    fs.writeFileSync(path.join(fixture.root, 'discard.yaml'), 'name: scratch\ntasks:\n  write:\n    run: echo scratch > scratch.txt\n');
    const { id, branch } = await runEdit('discard.yaml');
    const worktree = json((await o8('--json', 'status', id)).stdout).run.delivery.worktree;
    assert.ok(fs.existsSync(worktree));
    const unconfirmed = await o8('discard', id);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /--yes/);
    assert.ok(fs.existsSync(worktree));
    const discarded = await o8('--json', 'discard', id, '--yes');
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.deepEqual(json(discarded.stdout).worktrees, [worktree]);
    assert.equal(fs.existsSync(worktree), false);
    assert.equal(sh(repo, 'branch', '--list', branch), '');
    const gone = await o8('--json', 'diff', id);
    assert.equal(gone.code, 4);
    assert.equal(json(gone.stdout).error.code, 'no_branch');
  });
});
