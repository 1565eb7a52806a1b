// Scenario 0: the extension activates on a workspace with workflow files, fast, and shows its view.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { ARTIFACTS, CodeServerSession, ROOT, VSIX } from './code-server-session.mjs';

let session;
before(async () => {
  session = await CodeServerSession.start({
    name: 'activation',
    files: { '.orchestr8/workflows/hello.yaml': 'name: hello\ntasks:\n  greet:\n    run: echo hello\n' },
  });
});
after(async () => session?.close());

test('activates on workspaceContains, opens its engine and shows the welcome view', async () => {
  const [, total, load, call] = await session.waitForLog(/activated in ([\d.]+) ms \(bundle load ([\d.]+) ms, activate\(\) ([\d.]+) ms/, 60_000);
  const [, engineMs] = await session.waitForLog(/engine ready in ([\d.]+) ms/);
  await session.showRunsView();
  await session.page.locator('.part.sidebar', { hasText: 'No runs yet' }).first().waitFor({ timeout: 15_000 });
  await session.screenshot('00-activation-welcome');
  assert.ok(fs.existsSync(path.join(session.stateDir(), 'owner.lock')), 'engine owns the folder’s store, <folder>/.orchestr8/state');

  // VS Code's own measurement, as "Developer: Show Running Extensions" shows it.
  const row = session.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Orchestr8 Async' }).first();
  await session.runCommand('Developer: Show Running Extensions');
  const list = session.page.locator('.runtime-extensions-editor .monaco-list').first();
  await list.locator('.monaco-list-row').first().waitFor({ timeout: 30_000 });
  // The list is sorted slowest first and virtualised: a fast extension's row is only in the DOM once
  // scrolled into view.
  for (let i = 0; (await row.count()) === 0; i++) {
    assert.ok(i < 30, 'no Orchestr8 Async row in Running Extensions');
    await list.hover();
    await session.page.mouse.wheel(0, 300);
    await new Promise((r) => setTimeout(r, 200));
  }
  await row.scrollIntoViewIfNeeded();
  const rowText = ((await row.textContent()) ?? '').replace(/\s+/g, ' ');
  await session.screenshot('00-activation-running-extensions');
  const vscodeMs = /(\d+)\s*ms/.exec(rowText)?.[1];

  const vsixBytes = fs.statSync(VSIX).size;
  const report = {
    sample: 'first window load',
    vsixBytes,
    activationMs: Number(total),
    bundleLoadMs: Number(load),
    activateCallMs: Number(call),
    vscodeReportedMs: vscodeMs ? Number(vscodeMs) : null,
    engineReadyMs: Number(engineMs),
    runningExtensionsRow: rowText,
  };
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, 'activation-first-load.json'), JSON.stringify(report, null, 2));
  console.log(`activation: ${JSON.stringify(report)}`);
  assert.ok(report.activationMs > 0, 'the extension logs its activation time');
  assert.ok(vsixBytes <= 3 * 1024 * 1024, `the .vsix is ${vsixBytes} bytes, over 3 MB`);
  assert.match(rowText, /Activation: \d+ms/, 'VS Code measured it too');
  // The 100 ms budget is asserted on the median of several loads (workflow.test.mjs): one sample on a shared machine is noise.
});

test('in an untrusted workspace nothing runs and the view says why; trusting starts the engine', async () => {
  const untrusted = await CodeServerSession.start({
    name: 'untrusted',
    trust: false,
    // No startup question: the folder simply opens in Restricted Mode, as after answering "No".
    settings: { 'security.workspace.trust.startupPrompt': 'never' },
    files: { '.orchestr8/workflows/hello.yaml': 'name: hello\ntasks:\n  greet:\n    run: echo hello > greeted.txt\n' },
  });
  try {
    const { page } = untrusted;
    await untrusted.waitForLog(/activated in/, 60_000);
    await untrusted.showRunsView();
    await page.locator('.part.sidebar', { hasText: 'stays off until you trust the workspace' }).first().waitFor({ timeout: 15_000 });
    await untrusted.runCommand('Orchestr8: Launch Workflow…');
    const refused = untrusted.toast('stays off until you trust this workspace');
    await refused.waitFor({ timeout: 15_000 });
    assert.ok(await refused.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).isVisible(), 'the toast offers Manage Workspace Trust');
    await untrusted.screenshot('09-untrusted-workspace');
    assert.ok(!fs.existsSync(untrusted.stateDir()), 'no engine was opened, no store made');
    assert.ok(!fs.existsSync(path.join(untrusted.dirs.ws, 'greeted.txt')), 'nothing ran');
    assert.doesNotMatch(untrusted.outputLog(), /engine ready/);

    // Trusting the folder starts the engine without a reload.
    await untrusted.runCommand('Workspaces: Manage Workspace Trust');
    await page
      .locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ })
      .first()
      .click({ timeout: 15_000 });
    await untrusted.waitForLog(/engine ready in/, 30_000);
    await untrusted.showRunsView();
    await page.locator('.part.sidebar', { hasText: 'No runs yet' }).first().waitFor({ timeout: 15_000 });
  } finally {
    await untrusted.close();
  }
});

test('first start after the update: the runs an older version kept in the window’s workspace storage move to the folder’s store', async () => {
  let oldStore;
  const moved = await CodeServerSession.start({
    name: 'moved',
    files: { '.orchestr8/workflows/old.yaml': 'name: e2e-old\ntasks:\n  earlier:\n    run: echo "ran before the update"\n' },
    // Where an older version kept this window's runs: a store with one finished run, made by the CLI.
    beforeLaunch: (session) => {
      oldStore = session.workspaceStorageDir();
      const env = { ...session.env };
      delete env.ORCHESTR8_STATE;
      const run = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.cjs'), '--state', oldStore, '--json', 'run', '.orchestr8/workflows/old.yaml'], {
        cwd: session.dirs.ws,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    },
  });
  try {
    const [, from, to] = await moved.waitForLog(
      /moved this workspace's runs from (\S+) \(this window's own storage\) to (\S+), where every window and the CLI find them/,
      60_000,
    );
    assert.equal(from, oldStore);
    assert.equal(to, moved.stateDir());
    await moved.waitForLog(/engine ready in/);
    await moved.showRunsView();
    await moved.treeRow('e2e-old').locator('.codicon-pass-filled').waitFor({ timeout: 15_000 });
    await moved.runCommand('Orchestr8: Show Task Log');
    await moved.pick('e2e-old', { label: 'e2e-old' }); // its only task's log opens at once
    const preview = moved.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await preview.locator('body', { hasText: 'ran before the update' }).waitFor({ timeout: 20_000 });
    await moved.screenshot('00-moved-from-workspace-storage');
    assert.ok(!fs.existsSync(path.join(oldStore, 'journal')), 'the old store is gone from the workspace storage');
    assert.equal(JSON.parse(fs.readFileSync(path.join(oldStore, 'moved-to.json'), 'utf8')).movedTo, moved.stateDir());
  } finally {
    await moved.close();
  }
});
