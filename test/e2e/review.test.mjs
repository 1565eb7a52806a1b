// Review and apply a run's branch in real VS Code: the workspace is a git repository; a workflow run
// changes a file and adds one on its own branch. "Review Changes" must open VS Code's multi-file
// diff editor with both files; "Apply to Working Tree" must refuse, naming the file and changing
// nothing, while a local edit sits in a file the run changed, and bring the change in once it is gone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CodeServerSession } from './code-server-session.mjs';

const FLOW = `name: e2e-review
tasks:
  edit:
    run: printf "# widgets\\\\nchanged by the run\\\\n" > README.md && echo "from the run" > added-by-run.txt
`;

const SECOND = `name: conflicting
tasks:
  edit:
    run: printf "# widgets\\\\nsecond run\\\\n" > README.md
`;

let session;

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' },
  }).trim();
}

before(async () => {
  session = await CodeServerSession.start({
    name: 'review',
    files: { '.orchestr8/workflows/e2e-review.yaml': FLOW, '.orchestr8/workflows/conflicting.yaml': SECOND, 'README.md': '# widgets\n' },
    beforeLaunch: async (s) => {
      git(s.dirs.ws, 'init', '-q', '-b', 'main');
      git(s.dirs.ws, 'add', '-A');
      git(s.dirs.ws, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-q', '-m', 'initial');
      Object.assign(s.env, { GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' });
    },
  });
  await session.waitForLog(/engine ready in/, 60_000);
});

after(async () => {
  await session?.screenshot('review-zz-final').catch(() => {});
  await session?.close();
});

test('Review Changes opens the multi-file diff editor; Apply refuses over a local edit, naming the file, then brings the change in', async () => {
  const ws = session.dirs.ws;
  await session.showRunsView();
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick('e2e-review');
  const completed = session.toast(/e2e-review \(run .*completed/);
  await completed.waitFor({ timeout: 60_000 });
  // The completion says what happened to the code: the branch, its commit, not pushed, and why no pull request.
  assert.match(await completed.innerText(), /Branch orchestr8\/e2e-review-\S+, 1 commit, kept local, no pull request: no GitHub session in VS Code\./);
  await session.page.waitForTimeout(500);
  await session.screenshot('review-00-completion-toast');

  // Review Changes: the multi-file diff editor, titled with the run's branch, listing both files.
  await session.runCommand('Orchestr8: Review Changes');
  await session.pick('e2e-review');
  const tab = session.page.locator('.tabs-container .tab', { hasText: /e2e-review: orchestr8\/e2e-review-/ }).first();
  await tab.waitFor({ timeout: 20_000 });
  const editor = session.page.locator('.editor-group-container.active');
  await editor.locator('text=README.md').first().waitFor({ timeout: 20_000 });
  await editor.locator('text=added-by-run.txt').first().waitFor({ timeout: 20_000 });
  await editor.locator('text=changed by the run').first().waitFor({ timeout: 20_000 });
  await session.screenshot('review-01-diff-editor');

  // A local edit in a file the run changed: nothing is applied and the toast names the file.
  const readme = path.join(ws, 'README.md');
  fs.writeFileSync(readme, '# widgets\nmy local edit\n');
  const statusBefore = git(ws, 'status', '--porcelain');
  const headBefore = git(ws, 'rev-parse', 'HEAD');
  await session.runCommand('Orchestr8: Apply to Working Tree');
  await session.pick('e2e-review');
  const refused = session.toast(/not applied: uncommitted changes in README\.md/);
  await refused.waitFor({ timeout: 20_000 });
  assert.match(await refused.innerText(), /Nothing was changed/);
  await session.page.waitForTimeout(500); // the toast's slide-in
  await session.screenshot('review-02-apply-conflict');
  assert.equal(fs.readFileSync(readme, 'utf8'), '# widgets\nmy local edit\n');
  assert.equal(fs.existsSync(path.join(ws, 'added-by-run.txt')), false);
  assert.equal(git(ws, 'status', '--porcelain'), statusBefore);
  assert.equal(git(ws, 'rev-parse', 'HEAD'), headBefore);
  await session.page.keyboard.press('Escape');

  // Without the local edit the apply goes through: both files are in the working tree.
  git(ws, 'checkout', '--', 'README.md');
  await session.runCommand('Orchestr8: Apply to Working Tree');
  await session.pick('e2e-review');
  await session.toast(/applied orchestr8\/e2e-review-\S+ to main/).waitFor({ timeout: 20_000 });
  await session.page.waitForTimeout(500);
  await session.screenshot('review-03-applied');
  assert.equal(fs.readFileSync(readme, 'utf8'), '# widgets\nchanged by the run\n');
  assert.equal(fs.readFileSync(path.join(ws, 'added-by-run.txt'), 'utf8'), 'from the run\n');
  assert.equal(git(ws, 'status', '--porcelain'), '', 'applied as a commit on main: nothing left uncommitted');
});

test('an apply that conflicts with a committed edit changes nothing and names the file; "Open in Merge Editor" then merges with markers and opens the file', async () => {
  const ws = session.dirs.ws;
  const readme = path.join(ws, 'README.md');
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick('conflicting');
  await session.toast(/conflicting \(run .*completed/).waitFor({ timeout: 60_000 });
  fs.writeFileSync(readme, '# widgets\nmine\n');
  git(ws, 'commit', '-q', '-am', 'my edit');
  const head = git(ws, 'rev-parse', 'HEAD');
  await session.runCommand('Orchestr8: Apply to Working Tree');
  await session.pick('conflicting');
  const refused = session.toast(/not applied: orchestr8\/conflicting-\S+ conflicts with main in README\.md/);
  await refused.waitFor({ timeout: 20_000 });
  assert.equal(git(ws, 'status', '--porcelain'), '');
  assert.equal(git(ws, 'rev-parse', 'HEAD'), head);
  assert.equal(fs.readFileSync(readme, 'utf8'), '# widgets\nmine\n');
  await session.page.waitForTimeout(500);
  await session.screenshot('review-04-content-conflict');
  // Asked for, the merge is done with its conflict markers and the file opens (VS Code's conflict actions on it;
  // the git extension's merge editor follows only when git has noticed the conflict, which this test does not require).
  await refused.locator('.monaco-button', { hasText: 'Open in Merge Editor' }).click();
  await session.page
    .locator('.tabs-container .tab', { hasText: /README\.md/ })
    .first()
    .waitFor({ timeout: 20_000 });
  await session.toast(/conflicts in README\.md: the merge is in the working tree with conflict markers/).waitFor({ timeout: 10_000 });
  // The conflict is git's: README.md unmerged with both sides in the index. (The file itself is the merge
  // editor's to rewrite once it opens, which it does 1.5 s later when git has seen the conflict.)
  assert.equal(git(ws, 'diff', '--name-only', '--diff-filter=U'), 'README.md');
  assert.match(git(ws, 'show', ':2:README.md'), /mine/);
  assert.match(git(ws, 'show', ':3:README.md'), /second run/);
  await session.page.waitForTimeout(2500); // the git extension's merge editor follows once git has seen the conflict
  await session.screenshot('review-05-merge-editor');
  git(ws, 'merge', '--abort');
});
