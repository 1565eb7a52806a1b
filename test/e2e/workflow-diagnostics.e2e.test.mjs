// Scenario: a broken workflow file shows the workflow language server's diagnostic in the Problems
// panel (and as a squiggle), from the packaged extension in real VS Code (code-server + chromium).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CodeServerSession } from './code-server-session.mjs';

// Line 8, column 19 (1-based) is `tset`: the unknown need the server must point at.
const BROKEN = `name: broken
tasks:
  lint:
    run: npx eslint .
  review:
    agent: code-reviewer
    prompt: Review it
    needs: [lint, tset]
`;
const AGENT = '---\nname: code-reviewer\ndescription: Reviews a change for bugs\n---\nYou review code.\n';

let session;
before(async () => {
  session = await CodeServerSession.start({
    name: 'workflow-diagnostics',
    files: { '.orchestr8/workflows/broken.yaml': BROKEN, '.orchestr8/agents/reviewer.md': AGENT },
  });
});
after(async () => session?.close());

test('a broken workflow file shows its diagnostic in the Problems panel', async () => {
  const { page } = session;
  await session.waitForLog(/activated in/, 60_000);
  // The extension's own picker of .orchestr8/workflows files (Quick Open's file search skips dot folders here).
  await session.runCommand('Orchestr8: Open Workflow File');
  await session.pick('broken.yaml');
  await page.locator('.tabs-container .tab', { hasText: 'broken.yaml' }).first().waitFor({ timeout: 15_000 });
  // The file got the workflow language (contributes.languages filenamePatterns), which starts the client.
  await session.statusItem('Orchestr8 Workflow').waitFor({ timeout: 15_000 });

  await session.runCommand('Problems: Focus on Problems View');
  const marker = page.locator('.markers-panel .monaco-list-row', { hasText: "unknown need 'tset'" }).first();
  await marker.waitFor({ timeout: 60_000 });
  const text = ((await marker.textContent()) ?? '').replace(/\s+/g, ' ');
  await session.screenshot('workflow-diagnostics-problems');
  assert.match(text, /unknown need 'tset' \(tasks: lint, review\)/);
  assert.match(text, /orchestr8/, 'the source names the server');
  assert.match(text, /\[Ln 8, Col 19\]/, 'at the need itself');
  // And in the editor, as a squiggle.
  await page.locator('.monaco-editor .squiggly-error').first().waitFor({ state: 'attached', timeout: 15_000 });
  // Only that problem: the agent exists, so no unknown-agent diagnostic.
  assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: 'unknown agent' }).count(), 0);
});
