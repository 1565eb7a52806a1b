// Issue 13 in real VS Code: a `wait` answered from the tree with a payload, and a deep link opening a
// run. Screenshots in artifacts/e2e/ (30-…).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CodeServerSession, ROOT } from './code-server-session.mjs';

const GATE = `name: e2e-gate
tasks:
  build:
    run: echo v1.2.3
  approve:
    needs: build
    wait: Deploy \${tasks.build.result} to staging?
  deploy:
    needs: approve
    run: echo "deploying \${tasks.approve.result}" > deployed.txt
`;

const HELLO = `name: e2e-hello
tasks:
  greet:
    run: echo hello
`;

let session;

before(async () => {
  session = await CodeServerSession.start({
    name: 'attention',
    files: { '.orchestr8/workflows/e2e-gate.yaml': GATE, '.orchestr8/workflows/e2e-hello.yaml': HELLO },
  });
  await session.showRunsView();
  await session.waitForLog(/engine ready in/, 60_000);
});

after(async () => {
  await session?.screenshot('zz-attention-final').catch(() => {});
  await session?.close();
});

/** `orchestr8 --json ARGS` in the workspace folder: the window's own store. */
function cli(...args) {
  const env = { ...process.env };
  delete env.ORCHESTR8_STATE;
  const out = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.cjs'), '--json', ...args], {
    cwd: session.dirs.ws,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(out.status, 0, `orchestr8 ${args.join(' ')}: ${out.stdout}\n${out.stderr}`);
  return JSON.parse(out.stdout);
}

function runIdOf(name) {
  const run = cli('status').runs.find((r) => r.name === name);
  assert.ok(run, `a run named ${name}`);
  return run.id;
}

test('a wait is announced with its question, and approved from the tree with a payload that reaches the next task', async () => {
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick('e2e-gate');

  // The toast that announces the wait asks the question, its reference filled in.
  const asked = session.toast('waits for you at approve');
  await asked.waitFor({ timeout: 30_000 });
  assert.match(await asked.innerText(), /Deploy v1\.2\.3 to staging\?/);
  assert.ok(await asked.locator('.monaco-button', { hasText: 'Approve…' }).isVisible(), 'the toast offers Approve…');
  assert.ok(await asked.locator('.monaco-button', { hasText: 'Reject…' }).isVisible(), 'and Reject…');
  await session.screenshot('30-wait-toast');
  await session.runCommand('Notifications: Clear All Notifications');

  // The tree: the waiting row shows the question and Approve / Reject inline.
  const runRow = session.treeRow('e2e-gate');
  await runRow.waitFor({ timeout: 10_000 });
  await runRow.click();
  const row = session.treeRow('waiting: Deploy v1.2.3 to staging?');
  await row.waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /approve/);
  await row.hover();
  const approve = row.locator('.action-label[aria-label="Approve…"]');
  await approve.waitFor({ timeout: 5_000 });
  assert.ok(await row.locator('.action-label[aria-label="Reject…"]').isVisible(), 'Reject… next to it');
  await session.screenshot('31-wait-in-tree');
  await approve.click();

  const input = session.page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 10_000 });
  assert.match(await session.page.locator('.quick-input-widget').innerText(), /Approve approve: Deploy v1\.2\.3 to staging\?/);
  await input.fill('ship it carefully');
  await session.screenshot('32-wait-payload');
  await session.page.keyboard.press('Enter');

  const deployed = path.join(session.dirs.ws, 'deployed.txt');
  for (let i = 0; !fs.existsSync(deployed) || !fs.readFileSync(deployed, 'utf8').trim(); i++) {
    assert.ok(i < 300, 'deploy ran after the approval');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(fs.readFileSync(deployed, 'utf8').trim(), 'deploying ship it carefully', 'the payload is the wait’s result');
  await session.treeRow('e2e-gate').locator('.codicon-pass-filled').waitFor({ timeout: 20_000 });
  await session.screenshot('33-wait-approved-run-completed');
});

test('a deep link opens its run in the tree: through VS Code’s URL handling, and through Open Link…', async () => {
  const gateId = runIdOf('e2e-gate');
  // A newer run on top, and the view closed: the link must bring the view back and select the older run.
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick('e2e-hello');
  const hello = session.treeRow('e2e-hello');
  await hello.locator('.codicon-pass-filled').waitFor({ timeout: 30_000 });
  await hello.click();
  await session.runCommand('View: Show Explorer');

  // "Developer: Open URL" hands the URI to the workbench's URL service, as a link clicked in the OS would.
  await session.runCommand('Developer: Open URL');
  await session.answer(`code-oss://orchestr8.orchestr8/run/${gateId}`);
  // VS Code may ask whether the extension may open it.
  const allow = session.page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
  if (
    await allow.waitFor({ timeout: 3_000 }).then(
      () => true,
      () => false,
    )
  )
    await allow.click();
  await session.waitForLog(new RegExp(`opening link code-oss://orchestr8\\.orchestr8/run/${gateId}`), 20_000);
  const selected = session.page.locator('.part.sidebar .monaco-list-row.selected', { hasText: 'e2e-gate' });
  await selected.waitFor({ timeout: 15_000 });
  await session.screenshot('34-deep-link-run-selected');

  // The same link as webhooks and `orchestr8 status` give it (vscode://), to a task, through Open Link….
  assert.equal(cli('status', gateId).link, `vscode://orchestr8.orchestr8/run/${gateId}`);
  await session.runCommand('View: Show Explorer');
  await session.runCommand('Orchestr8: Open Link…');
  await session.answer(`vscode://orchestr8.orchestr8/task/${gateId}.deploy`);
  await session.page.locator('.part.sidebar .monaco-list-row.selected', { hasText: 'deploy' }).waitFor({ timeout: 15_000 });
  await session.screenshot('35-deep-link-task-selected');
});
