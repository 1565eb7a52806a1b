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
  assert.ok(fs.existsSync(path.join(session.storageDir(), 'owner.lock')), 'engine owns its store in context.storageUri');

  // VS Code's own measurement, as "Developer: Show Running Extensions" shows it.
  await session.runCommand('Developer: Show Running Extensions');
  const row = session.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'Orchestr8 Async' }).first();
  // Rows of a long list may be rendered off screen: attached is enough to read VS Code's number.
  await row.waitFor({ state: 'attached', timeout: 30_000 });
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
