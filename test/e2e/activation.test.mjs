// Scenario 0: the extension activates on a workspace with workflow files, fast, and shows its view.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, CodeServerSession, VSIX } from './code-server-session.mjs';

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
  const report = { sample: 'first window load', vsixBytes, activationMs: Number(total), bundleLoadMs: Number(load), activateCallMs: Number(call), vscodeReportedMs: vscodeMs ? Number(vscodeMs) : null, engineReadyMs: Number(engineMs), runningExtensionsRow: rowText };
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
    await untrusted.toast('stays off until you trust this workspace').waitFor({ timeout: 15_000 });
    await untrusted.screenshot('09-untrusted-workspace');
    assert.ok(!fs.existsSync(untrusted.stateDir()), 'no engine was opened, no store made');
    assert.ok(!fs.existsSync(path.join(untrusted.dirs.ws, 'greeted.txt')), 'nothing ran');
    assert.doesNotMatch(untrusted.outputLog(), /engine ready/);

    // Trusting the folder starts the engine without a reload.
    await untrusted.runCommand('Workspaces: Manage Workspace Trust');
    await page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first().click({ timeout: 15_000 });
    await untrusted.waitForLog(/engine ready in/, 30_000);
    await untrusted.showRunsView();
    await page.locator('.part.sidebar', { hasText: 'No runs yet' }).first().waitFor({ timeout: 15_000 });
  } finally {
    await untrusted.close();
  }
});
