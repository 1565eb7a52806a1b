// A run that opens a pull request, in real VS Code: the workspace is a git repository whose `origin`
// is a local bare repository, and GitHub is a local server speaking its REST API (the extension is
// pointed at it through GITHUB_API_URL / ORCHESTR8_GITHUB_TOKEN / ORCHESTR8_GITHUB_REPO in VS Code's
// environment, as for the CLI). The completion toast and the run's tree row must offer
// "Open Pull Request" as soon as the pull request exists, without reloading anything.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { register } from 'tsx/esm/api';
import { CodeServerSession } from './code-server-session.mjs';

register();
const { FakeGitHub } = await import('../results/fake-github-server.ts');

const TOKEN = 'ghp_e2e_pull_request';

const FLOW = `name: e2e-pr
pull_request: { title: "E2E pull request" }
tasks:
  edit:
    run: echo fixed > fix.txt
`;

let session;
let github;

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.com' },
  }).trim();
}

before(async () => {
  session = await CodeServerSession.start({
    name: 'pull-request',
    files: { '.orchestr8/workflows/e2e-pr.yaml': FLOW, 'README.md': '# widgets\n' },
    beforeLaunch: async (s) => {
      const remote = path.join(s.dirs.base, 'remote.git');
      git(s.dirs.base, 'init', '-q', '--bare', '-b', 'main', remote);
      git(s.dirs.ws, 'init', '-q', '-b', 'main');
      git(s.dirs.ws, 'add', '-A');
      git(s.dirs.ws, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-q', '-m', 'initial');
      git(s.dirs.ws, 'remote', 'add', 'origin', remote);
      git(s.dirs.ws, 'push', '-q', 'origin', 'main');
      github = new FakeGitHub({ token: TOKEN, repos: { 'acme/widgets': remote } });
      await github.start();
      Object.assign(s.env, {
        // Not GITHUB_TOKEN: code-server takes that one for its own GitHub sign-in and removes it.
        ORCHESTR8_GITHUB_TOKEN: TOKEN,
        GITHUB_API_URL: github.url,
        ORCHESTR8_GITHUB_REPO: 'acme/widgets',
        GIT_AUTHOR_NAME: 'e2e',
        GIT_AUTHOR_EMAIL: 'e2e@example.com',
        GIT_COMMITTER_NAME: 'e2e',
        GIT_COMMITTER_EMAIL: 'e2e@example.com',
      });
    },
  });
  await session.waitForLog(/engine ready in/, 60_000);
});

after(async () => {
  await session?.screenshot('pr-zz-final').catch(() => {});
  await session?.close();
  await github?.close();
});

test('a run that opens a pull request offers "Open Pull Request" in its completion toast and its tree row, without a reload', async () => {
  await session.showRunsView();
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick('e2e-pr');
  const toast = session.page.locator('.notification-toast', { hasText: /e2e-pr \(run .*completed/ }).first();
  await toast.waitFor({ timeout: 60_000 });
  assert.equal(github.pulls.length, 1, 'the pull request was opened on the fake GitHub');
  assert.equal(github.pulls[0].title, 'E2E pull request');
  const openPr = toast.locator('.monaco-button', { hasText: 'Open Pull Request' });
  await openPr.waitFor({ timeout: 5_000 });
  await session.screenshot('pr-01-completion-toast');
  // The completion toast itself carries the button: not a second "opened a pull request" toast that
  // comes when the completion went out without it.
  assert.equal(await session.page.locator('.notification-toast', { hasText: 'opened a pull request' }).count(), 0, 'one toast, with the button');
  // And the button opens this pull request: VS Code asks before opening an external site, naming it
  // (or, with the site trusted, opens it in a new tab).
  const { owner, repo, number } = github.pulls[0];
  const htmlUrl = `https://github.example/${owner}/${repo}/pull/${number}`;
  const newTab = session.browser.waitForEvent('page', { timeout: 15_000 }).then(
    (p) => p.url(),
    () => undefined,
  );
  await openPr.click();
  const dialog = session.page.locator('.monaco-dialog-box', { hasText: htmlUrl });
  const opened = await Promise.race([
    dialog.waitFor({ timeout: 15_000 }).then(
      () => 'dialog',
      () => undefined,
    ),
    newTab,
  ]);
  assert.ok(opened === 'dialog' || opened?.startsWith(htmlUrl), `Open Pull Request opened ${opened ?? 'nothing'}, not ${htmlUrl}`);
  if (opened === 'dialog') {
    await session.screenshot('pr-01b-open-pull-request');
    await session.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 });
  }

  // The row's inline action exists as soon as run.delivered arrived; hovering shows it.
  const row = session.treeRow('e2e-pr');
  await row.waitFor({ timeout: 10_000 });
  await row.hover();
  await row.locator('.action-label[aria-label="Open Pull Request"]').waitFor({ state: 'attached', timeout: 10_000 });
  await session.screenshot('pr-02-tree-action');
  assert.doesNotMatch(session.outputLog(), /engine ready in[\s\S]*engine ready in/, 'the window did not reload its engine');
  assert.doesNotMatch(session.outputLog(), /reloading the store once/, 'nor its store');
  assert.ok(fs.existsSync(path.join(session.dirs.ws, 'README.md')));
});
