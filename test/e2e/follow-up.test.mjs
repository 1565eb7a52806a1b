// Continue… in real VS Code: an agent task finishes on the local Messages server, then a follow-up
// from its tree row continues the same conversation as a new attempt in the run's worktree, adding a
// commit to the run's branch; Show Transcript follows it. Screenshots in artifacts/e2e/ (40-…).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CodeServerSession, ROOT } from './code-server-session.mjs';
import { FakeAnthropicServer, SCRIBE, textReply, toolReply } from './agent-fixtures.mjs';

const GIT_ENV = { GIT_AUTHOR_NAME: 'E2E', GIT_AUTHOR_EMAIL: 'e2e@example.com', GIT_COMMITTER_NAME: 'E2E', GIT_COMMITTER_EMAIL: 'e2e@example.com' };
const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim();

let server;
let session;

before(async () => {
  server = await FakeAnthropicServer.start();
  session = await CodeServerSession.start({
    name: 'follow-up',
    files: { '.orchestr8/agents/scribe.md': SCRIBE, 'README.md': '# demo project\n' },
    settings: { 'orchestr8.anthropicBaseUrl': server.url },
    // A git repository: each run gets its own worktree and branch, and each task that changed files a commit.
    beforeLaunch: (s) => {
      git(s.dirs.ws, 'init', '-q', '-b', 'main');
      git(s.dirs.ws, 'add', '-A');
      git(s.dirs.ws, 'commit', '-q', '-m', 'initial');
    },
  });
  await session.showRunsView();
  await session.waitForLog(/engine ready in/, 60_000);
});

after(async () => {
  await session?.screenshot('zz-follow-up-final').catch(() => {});
  await session?.close();
  await server?.close();
});

function status(runId) {
  const env = { ...process.env };
  delete env.ORCHESTR8_STATE;
  const out = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.cjs'), '--json', 'status', ...(runId ? [runId] : [])], {
    cwd: session.dirs.ws,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout);
}

test('Continue… on a finished agent task: the same conversation goes on in a new attempt and adds a commit to the run’s branch', async () => {
  await session.runCommand('Orchestr8: Set Anthropic API Key');
  await session.answer(server.apiKey);
  await session.toast('Anthropic API key saved').waitFor({ timeout: 10_000 });

  server.enqueue(
    toolReply([{ name: 'write_file', input: { path: 'NOTES.md', content: '# Notes\n\nA demo.\n' } }], { text: 'Writing the notes.' }),
    textReply('Wrote NOTES.md.'),
  );
  await session.runCommand('Orchestr8: Launch Agent Task…');
  await session.pick('scribe');
  await session.answer('Write project notes');
  const runRow = session.treeRow('scribe: Write project notes');
  await runRow.locator('.codicon-pass-filled').waitFor({ timeout: 60_000 });
  const runId = status().runs[0].id;
  let run = status(runId);
  const branch = run.run.delivery?.branch;
  assert.ok(branch, `the run has a branch: ${JSON.stringify(run.run.delivery)}`);
  assert.equal(git(session.dirs.ws, 'rev-list', '--count', `main..${branch}`), '1', 'the first attempt committed once');
  await session.runCommand('Notifications: Clear All Notifications');

  // The task row: labelled by its kind (the run row above shows the long label), with Continue… inline.
  await runRow.click();
  const taskRow = session.treeRow('agent scribe');
  await taskRow.waitFor({ timeout: 15_000 });
  await taskRow.hover();
  const cont = taskRow.locator('.action-label[aria-label="Continue…"]');
  await cont.waitFor({ timeout: 5_000 });
  await session.screenshot('40-agent-task-finished-continue-offered');

  server.enqueue(
    toolReply([{ name: 'write_file', input: { path: 'TODO.md', content: '- add tests\n' } }], { text: 'Adding the list.', chunkDelayMs: 40 }),
    textReply('Added TODO.md next to the notes.', { delayMs: 1500 }),
  );
  await cont.click();
  await session.answer('Also add a TODO list');
  const continuing = session.toast('continuing');
  await continuing.waitFor({ timeout: 15_000 });
  assert.match(await continuing.innerText(), /attempt 2: “Also add a TODO list”/);
  await continuing.locator('.monaco-button', { hasText: 'Show Transcript' }).click();

  // The transcript: the first conversation, the follow-up, and the new answer once it arrives.
  const preview = session.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await preview.locator('body', { hasText: 'Also add a TODO list' }).waitFor({ timeout: 20_000 });
  await session.screenshot('41-transcript-live');
  await preview.locator('body', { hasText: 'Added TODO.md next to the notes.' }).waitFor({ timeout: 60_000 });
  const text = await preview.locator('body').innerText();
  assert.ok(text.indexOf('Wrote NOTES.md.') < text.indexOf('Also add a TODO list'), 'the earlier answer, then the follow-up');
  assert.match(text, /write_file/);
  await session.screenshot('42-transcript-after-follow-up');

  for (let i = 0; ; i++) {
    run = status(runId);
    if (run.run.state === 'completed' && run.tasks[0].attempt === 2 && run.run.finalized) break;
    assert.ok(i < 300, `the follow-up did not finish: ${JSON.stringify(run.run)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(git(session.dirs.ws, 'rev-list', '--count', `main..${branch}`), '2', 'the follow-up added a commit to the run’s branch');
  assert.equal(git(session.dirs.ws, 'show', `${branch}:TODO.md`), '- add tests');
  assert.equal(server.requests.length, 4, 'no finished turn was paid for twice');
  const messages = server.requests[2].body.messages;
  assert.deepEqual(
    messages.map((m) => m.role),
    ['user', 'assistant', 'user', 'assistant', 'user'],
    'the follow-up request carries the whole conversation',
  );
  await session.runCommand('View: Close All Editors');
  await session.screenshot('43-follow-up-committed');
});
