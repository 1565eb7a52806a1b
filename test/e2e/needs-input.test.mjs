// Human in the loop in real VS Code: an agent's shell command parks its task (needs-input) until it is
// allowed from its toast or denied with a reason (which reaches the agent); a budget stop shown in the
// tree; a run paused while the local Messages server answers 529 that resumes by itself when it recovers.
// The real agent runner and @anthropic-ai/sdk talk to src/devtools/fake-anthropic/. Screenshots in artifacts/e2e/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CodeServerSession } from './code-server-session.mjs';
import { FakeAnthropicServer, textReply, toolReply } from './agent-fixtures.mjs';

const SHELL = `---
name: shell
description: Runs commands in the project
tools: Read, Bash
---
You run commands carefully.
`;
const flow = (name, extra = '') => `name: ${name}
workspace: in-place
tasks:
  work:
    agent: shell
    prompt: do the ${name} thing
${extra}`;

let server;
let session;

before(async () => {
  server = await FakeAnthropicServer.start();
  session = await CodeServerSession.start({
    name: 'needs-input',
    files: {
      '.orchestr8/agents/shell.md': SHELL,
      '.orchestr8/workflows/ask.yaml': flow('e2e-ask'),
      '.orchestr8/workflows/deny.yaml': flow('e2e-deny'),
      '.orchestr8/workflows/budget.yaml': flow('e2e-budget', '    budget: { tokens: 1000 }\n'),
      '.orchestr8/workflows/quota.yaml': flow('e2e-quota'),
      'README.md': '# demo project\n',
    },
    settings: { 'orchestr8.anthropicBaseUrl': server.url },
  });
  await session.showRunsView();
  await session.waitForLog(/engine ready in/, 60_000);
  await session.runCommand('Orchestr8: Set Anthropic API Key');
  await session.answer(server.apiKey);
  await session.toast('Anthropic API key saved').waitFor({ timeout: 10_000 });
  await clearToasts();
});

after(async () => {
  await session?.screenshot('needs-zz-final').catch(() => {});
  await session?.close();
  await server?.close();
});

async function clearToasts() {
  await session.runCommand('Notifications: Clear All Notifications');
}

async function launch(name) {
  await session.runCommand('Orchestr8: Launch Workflow…');
  await session.pick(name);
  await session.toast(`Started ${name}`).waitFor({ timeout: 15_000 });
}

/** The run's row, expanded, and its `work` task row. */
async function taskRow(runName) {
  const run = session.treeRow(runName);
  await run.waitFor({ timeout: 15_000 });
  const rows = session.page.locator('.part.sidebar .monaco-list-row');
  // Expand it when its task is not showing yet (rows are in order: the run, then its tasks).
  if (!(await run.getAttribute('aria-expanded')?.then((v) => v === 'true'))) await run.click();
  const index = await rows.evaluateAll((els, name) => els.findIndex((e) => e.textContent.includes(name)), runName);
  return rows.nth(index + 1);
}

async function until(what, check, timeoutMs = 30_000) {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    const value = await check();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The tool result the model got in the request after the tool call. */
function lastToolResult() {
  const last = server.requests.at(-1).body.messages.at(-1);
  return Array.isArray(last.content) ? last.content.find((b) => b.type === 'tool_result') : undefined;
}

test('a permission request allowed from its toast: the task parks, the tree says so, Allow Once lets the agent go on', async () => {
  server.enqueue(toolReply([{ name: 'run_command', input: { command: 'echo allowed > allowed.txt' } }]), textReply('Wrote allowed.txt after you allowed it.'));
  await launch('e2e-ask');
  const toast = session.toast('asks to run Bash(echo allowed > allowed.txt)');
  await toast.waitFor({ timeout: 30_000 });
  const row = await taskRow('e2e-ask');
  await row.locator('.codicon-question').waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /asks: Bash\(echo allowed > allowed\.txt\)/);
  await session.statusItem('needs input').waitFor({ timeout: 10_000 });
  await session.page.locator('.activitybar .badge', { hasText: '1' }).first().waitFor({ timeout: 10_000 });
  assert.ok(!fs.existsSync(path.join(session.dirs.ws, 'allowed.txt')), 'nothing ran before the answer');
  await session.screenshot('needs-01-permission-toast-tree-badge');

  await toast.locator('.monaco-button', { hasText: 'Allow Once' }).click();
  await row.locator('.codicon-pass').waitFor({ timeout: 30_000 });
  assert.equal(fs.readFileSync(path.join(session.dirs.ws, 'allowed.txt'), 'utf8'), 'allowed\n');
  assert.match(lastToolResult().content, /^exit code 0/);
  await session.screenshot('needs-02-allowed-agent-went-on');
  await clearToasts();
});

test('Deny… from the toast with a reason: the agent receives the reason as the tool result', async () => {
  server.enqueue(toolReply([{ name: 'run_command', input: { command: 'rm -rf src' } }]), textReply('Understood: I leave src alone.'));
  await launch('e2e-deny');
  const toast = session.toast('asks to run Bash(rm -rf src)');
  await toast.waitFor({ timeout: 30_000 });
  await toast.locator('.monaco-button', { hasText: 'Deny' }).click();
  await session.answer('src is the product; never delete it');
  const row = await taskRow('e2e-deny');
  await row.locator('.codicon-pass').waitFor({ timeout: 30_000 });
  const result = lastToolResult();
  assert.equal(result.is_error, true);
  assert.equal(result.content, 'The user denied this command: src is the product; never delete it');
  await session.screenshot('needs-03-denied-with-reason');
  await clearToasts();
});

test('a budget stop shown in the tree: the task asks before passing its budget; Stop fails it, saying why', async () => {
  server.enqueue(toolReply([{ name: 'read_file', input: { path: 'README.md' } }], { usage: { input_tokens: 900, output_tokens: 60 } }));
  await launch('e2e-budget');
  const toast = session.toast('raise the budget or stop');
  await toast.waitFor({ timeout: 30_000 });
  const row = await taskRow('e2e-budget');
  await row.locator('.codicon-question').waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /budget reached: raise or stop/);
  assert.match(await row.innerText(), /960 \/ 1(\.0)?k tokens budget/);
  await session.screenshot('needs-04-budget-asks-in-tree');
  await toast.locator('.monaco-button', { hasText: 'Stop' }).click();
  await row.locator('.codicon-error').waitFor({ timeout: 30_000 });
  assert.equal(
    server.requests.filter((r) => JSON.stringify(r.body.messages[0]).includes('do the e2e-budget thing')).length,
    1,
    'the turn past the budget was never sent',
  );
  await session.screenshot('needs-05-budget-stopped-in-tree');
  await clearToasts();
});

test('a run pauses while the Messages server answers 529 and resumes by itself when it recovers', async () => {
  server.outage({ kind: 'error', status: 529, retryAfterSeconds: 2 });
  await launch('e2e-quota');
  const toast = session.toast('run e2e-quota paused');
  await toast.waitFor({ timeout: 60_000 });
  assert.match(await toast.innerText(), /overloaded \(529 after 4 retries\)[\s\S]*tries again at/);
  const run = session.treeRow('e2e-quota');
  await run.locator('.codicon-debug-pause').waitFor({ timeout: 15_000 });
  await session.screenshot('needs-06-paused-on-529');
  const before = server.requests.length;
  server.enqueue(textReply('Done once the API was back.'));
  server.recover();
  const row = await taskRow('e2e-quota');
  await row.locator('.codicon-pass').waitFor({ timeout: 60_000 });
  assert.equal(server.requests.length, before + 1, 'one request once it recovered');
  await until('the run completed', async () => (await run.locator('.codicon-pass-filled').count()) > 0);
  await session.screenshot('needs-07-resumed-after-recovery');
});
