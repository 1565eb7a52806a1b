// An agent task from the palette in real VS Code: the key set with "Set Anthropic API Key" (SecretStorage),
// the real agent runner and the real @anthropic-ai/sdk talking to the repo's local Messages server
// (src/devtools/fake-anthropic/) through the `orchestr8.anthropicBaseUrl` setting. Screenshots in artifacts/e2e/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CodeServerSession } from './code-server-session.mjs';
import { FakeAnthropicServer, SCRIBE, textReply, toolReply } from './agent-fixtures.mjs';

// A deprecated model (the SDK warns about it), so the warning's way to the user is covered too.
const MODEL = 'claude-sonnet-4-5';

let server;
let session;

before(async () => {
  server = await FakeAnthropicServer.start();
  session = await CodeServerSession.start({
    name: 'agent',
    files: {
      '.orchestr8/agents/scribe.md': SCRIBE,
      'README.md': '# demo project\n',
    },
    settings: { 'orchestr8.anthropicBaseUrl': server.url, 'orchestr8.defaultModel': MODEL },
  });
  // No workflow files here: opening the Orchestr8 view is what activates the extension.
  await session.showRunsView();
  await session.waitForLog(/engine ready in/, 60_000);
});

after(async () => {
  await session?.screenshot('zz-agent-final').catch(() => {});
  await session?.close();
  await server?.close();
});

test('Launch Agent Task… runs the agent on the configured Messages server with the stored key; the result opens', async () => {
  await session.showRunsView();
  await session.runCommand('Orchestr8: Set Anthropic API Key');
  await session.answer(server.apiKey);
  await session.toast('Anthropic API key saved').waitFor({ timeout: 10_000 });
  await session.runCommand('Notifications: Clear All Notifications');

  server.enqueue(
    toolReply([{ name: 'write_file', input: { path: 'NOTES.md', content: '# Notes\n\nThe project is a demo.\n' } }], {
      text: 'Writing the notes.',
      chunkDelayMs: 50,
    }),
    textReply('Wrote NOTES.md: the project is a demo.', { delayMs: 1500 }),
  );
  await session.runCommand('Orchestr8: Launch Agent Task…');
  await session.pick('scribe');
  await session.answer('Write project notes');
  await session.toast('Started scribe: Write project notes').waitFor({ timeout: 15_000 });
  const row = session.treeRow('scribe: Write project notes');
  await row.waitFor({ timeout: 15_000 });
  await session.screenshot('20-agent-task-running');

  // The SDK's deprecation warning for the model reaches the user once: a warning toast and the output log.
  const warning = session.toast(`The model '${MODEL}' is deprecated`);
  await warning.waitFor({ timeout: 30_000 });
  await session.waitForLog(new RegExp(`The model '${MODEL}' is deprecated`));

  await session.page
    .locator('.part.sidebar .monaco-list-row', { hasText: 'scribe: Write project notes' })
    .locator('.codicon-pass-filled')
    .first()
    .waitFor({ timeout: 30_000 });
  // By its outcome: the "Started …" toast of the same run names it too (completion toasts are held briefly to group bursts).
  const done = session.toast(/scribe: Write project notes \(run \S+\) completed/);
  await done.waitFor({ timeout: 15_000 });
  assert.match(await done.innerText(), /completed in/);
  await session.screenshot('21-agent-task-completed');

  assert.equal(
    fs.readFileSync(path.join(session.dirs.ws, 'NOTES.md'), 'utf8'),
    '# Notes\n\nThe project is a demo.\n',
    'the agent wrote the file in the workspace',
  );
  assert.equal(server.requests.length, 2, 'two model turns');
  const { headers, body } = server.requests[0];
  assert.ok(headers['x-api-key'] === server.apiKey || headers.authorization === `Bearer ${server.apiKey}`, 'the key from SecretStorage was sent');
  assert.equal(body.model, MODEL, 'orchestr8.defaultModel applies');
  assert.equal(server.pending, 0);
  assert.equal(session.console.filter((l) => /is deprecated/.test(l)).length, 0, 'the warning did not go to the console instead');

  await done.locator('.monaco-button', { hasText: 'Open Result' }).click();
  const preview = session.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await preview.locator('body', { hasText: 'Wrote NOTES.md: the project is a demo.' }).waitFor({ timeout: 20_000 });
  await session.screenshot('22-agent-result');

  // The key never reaches the state folder or the log.
  const stateDir = session.stateDir();
  for (const file of fs.readdirSync(stateDir, { recursive: true })) {
    const full = path.join(stateDir, file);
    if (fs.statSync(full).isFile()) assert.ok(!fs.readFileSync(full).toString('latin1').includes(server.apiKey), `key found in ${file}`);
  }
  assert.ok(!session.outputLog().includes(server.apiKey), 'key not in the output log');
});
