import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { allToolResults, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { cliMissingReason, orchestr8 } from '../cli/cli-process.ts';
import { makeClaudeCodeProject } from '../support/claude-code-project.ts';

const DIST = resolve(import.meta.dirname, '../../dist');
// A message only the agent SDK's code holds.
const SDK_MARKER = 'exists but failed to launch';

test('the agent SDK is its own file in dist, in no bundle that start-up or activation loads', { skip: cliMissingReason() }, () => {
  assert.ok(readFileSync(join(DIST, 'claude-agent-sdk.cjs'), 'utf8').includes(SDK_MARKER));
  for (const bundle of ['extension.cjs', 'engine-runtime.cjs', 'cli.cjs']) {
    const text = readFileSync(join(DIST, bundle), 'utf8');
    assert.ok(!text.includes(SDK_MARKER), `${bundle} bundles the agent SDK`);
  }
  assert.ok(!readFileSync(join(DIST, 'extension.cjs'), 'utf8').includes('claude-agent-sdk.cjs'), 'activation can reach the agent SDK');
});

test('the built CLI runs a runtime: claude-code task, loading the SDK from its sibling file', { skip: cliMissingReason() }, async () => {
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'You are the bundled writer.': (_turn, request) =>
        allToolResults(request).length
          ? textReply('done from the bundle')
          : toolReply([{ name: 'Write', input: { file_path: 'from-cli.txt', content: 'cli' } }]),
    }),
  });
  after(() => server.close());
  const project = makeClaudeCodeProject({ writer: { frontmatter: 'tools: Write\n', prompt: 'You are the bundled writer.' } });
  writeFileSync(join(project.root, 'notes.yaml'), 'name: notes\ntasks:\n  write:\n    agent: writer\n    runtime: claude-code\n    prompt: write it\n');
  const out = await orchestr8(project.root, ['run', 'notes.yaml', '--state', join(project.outer, 'state')], project.env(server));
  assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
  assert.equal(readFileSync(join(project.root, 'from-cli.txt'), 'utf8'), 'cli');
  assert.ok(server.requests.length >= 2);
});
