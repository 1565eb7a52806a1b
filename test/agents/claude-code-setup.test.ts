import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLAUDE_CODE_INSTALL_HELP, findClaudeCode } from '../../src/core/agents/claude-code/claude-code-executable.ts';
import { ClaudeCodeGrant, type ToolDecision } from '../../src/core/agents/claude-code/claude-code-permissions.ts';
import { WorkspaceGuard } from '../../src/core/agents/tools/workspace-guard.ts';
import { tempDir } from '../support/temp-dir.ts';

function fakeExecutable(folder: string, name = 'claude'): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

test('executable: the configured path, else the SDK platform package, else claude on PATH, else nothing', () => {
  const dir = tempDir('o8-claude-exe-');
  const configured = fakeExecutable(join(dir, 'configured'));
  const packaged = fakeExecutable(join(dir, 'node_modules/@anthropic-ai/claude-agent-sdk-linux-x64'));
  const onPath = fakeExecutable(join(dir, 'bin'));
  const pkg = (name: string) =>
    name === '@anthropic-ai/claude-agent-sdk-linux-x64/package.json'
      ? join(dir, 'node_modules/@anthropic-ai/claude-agent-sdk-linux-x64/package.json')
      : undefined;
  const none = () => undefined;
  const env = { PATH: `${join(dir, 'empty')}:${join(dir, 'bin')}` };
  const base = { platform: 'linux' as const, arch: 'x64', env };

  assert.deepEqual(findClaudeCode({ ...base, configuredPath: configured, resolvePackageJson: pkg }), { path: configured, source: 'setting' });
  assert.deepEqual(findClaudeCode({ ...base, resolvePackageJson: pkg }), { path: packaged, source: 'package' });
  assert.deepEqual(findClaudeCode({ ...base, resolvePackageJson: none }), { path: onPath, source: 'path' });
  assert.equal(findClaudeCode({ ...base, env: { PATH: join(dir, 'empty') }, resolvePackageJson: none }), undefined);
  // A configured path that does not work is an error, not a silent fallback.
  assert.throws(() => findClaudeCode({ ...base, configuredPath: join(dir, 'nope'), resolvePackageJson: pkg }), /no executable at/);
  assert.throws(() => findClaudeCode({ ...base, configuredPath: 'claude', resolvePackageJson: pkg }), /absolute path/);
  // A file that is not executable does not count.
  writeFileSync(join(dir, 'bin2-claude'), '');
  assert.equal(findClaudeCode({ ...base, env: { PATH: join(dir, 'empty') }, resolvePackageJson: () => join(dir, 'bin2-claude') }), undefined);
  assert.match(CLAUDE_CODE_INSTALL_HELP, /npm install -g @anthropic-ai\/claude-code/);
  assert.match(CLAUDE_CODE_INSTALL_HELP, /orchestr8\.claudeCodePath/);
});

test('executable: the installed platform package is found by node resolution', { skip: process.platform !== 'linux' || process.arch !== 'x64' }, () => {
  const found = findClaudeCode({ env: { PATH: '' } });
  assert.equal(found?.source, 'package');
  assert.match(found!.path, /claude-agent-sdk-linux-x64\/claude$/);
});

test('grant: Claude Code and our tool names; mcp servers by prefix; the default leaves out commands and the network', async () => {
  const guard = await WorkspaceGuard.open(tempDir('o8-grant-'));
  const ours = ClaudeCodeGrant.fromAgentTools(['read_file', 'edit_file', 'mcp__github', 'WebFetch'], guard);
  assert.deepEqual([...ours.tools].sort(), ['Edit', 'MultiEdit', 'Read', 'WebFetch', 'mcp__github']);
  assert.ok(ours.covers('mcp__github__create_issue'));
  assert.ok(!ours.covers('mcp__githubber__x'));
  assert.ok(!ours.covers('Bash'));
  const defaults = ClaudeCodeGrant.fromAgentTools(undefined, guard);
  for (const tool of ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Agent']) assert.ok(defaults.covers(tool), tool);
  for (const tool of ['Bash', 'WebFetch', 'WebSearch', 'mcp__x__y']) assert.ok(!defaults.covers(tool), tool);
  assert.match(denied(await defaults.check('Bash', { command: 'ls' })), /^Orchestr8 denied Bash: this agent's file does not grant it \(tools: Read, /);
});

test('grant: writes and reads stay in the task folder, through symlinks too', async () => {
  const outer = tempDir('o8-grant-paths-');
  const root = join(outer, 'project');
  mkdirSync(join(root, 'src'), { recursive: true });
  symlinkSync(outer, join(root, 'out-link'));
  const grant = ClaudeCodeGrant.fromAgentTools(['Read', 'Write', 'Edit', 'Grep'], await WorkspaceGuard.open(root));
  assert.deepEqual(await grant.check('Write', { file_path: join(root, 'src/new.ts'), content: '' }), { kind: 'allow' });
  assert.deepEqual(await grant.check('Write', { file_path: 'src/relative.ts', content: '' }), { kind: 'allow' });
  assert.deepEqual(await grant.check('Grep', { pattern: 'x' }), { kind: 'allow' });
  assert.match(
    denied(await grant.check('Write', { file_path: join(root, '../../x.txt'), content: '' })),
    /^Orchestr8 denied Write: .*outside the task folder.*only write files in their task folder/,
  );
  assert.match(denied(await grant.check('Edit', { file_path: join(root, 'out-link/x.txt') })), /symlink/);
  assert.match(denied(await grant.check('Read', { file_path: '/etc/passwd' })), /only read files/);
  assert.match(denied(await grant.check('Grep', { pattern: 'x', path: outer })), /outside the task folder/);
});

test('grant: a granted Bash call runs under an allow rule, is refused by a deny rule, and is asked about otherwise', async () => {
  const root = tempDir('o8-grant-rules-');
  const grant = ClaudeCodeGrant.fromAgentTools(['Bash(npm test:*)'], await WorkspaceGuard.open(root), {
    allow: ['Bash(npm test:*)'],
    deny: ['Bash(git push:*)'],
  });
  assert.deepEqual(grant.tools, ['Bash'], 'a rule in tools: grants its tool');
  assert.deepEqual(await grant.check('Bash', { command: 'npm test -- --watch' }), { kind: 'allow' });
  assert.deepEqual(await grant.check('Bash', { command: 'npm test && ls' }), { kind: 'ask', command: 'npm test && ls' });
  assert.match(
    denied(await grant.check('Bash', { command: 'npm test && git push origin main' })),
    /^Orchestr8 denied Bash: the rule Bash\(git push:\*\) refuses/,
  );
  const unruled = ClaudeCodeGrant.fromAgentTools(['Bash'], await WorkspaceGuard.open(root));
  assert.deepEqual(await unruled.check('Bash', { command: 'git push origin main' }), { kind: 'ask', command: 'git push origin main' });
});

function denied(decision: ToolDecision): string {
  assert.equal(decision.kind, 'deny', JSON.stringify(decision));
  return decision.kind === 'deny' ? decision.message : '';
}
