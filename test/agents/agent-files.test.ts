import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAgentCatalog } from '../../src/core/agents/agent-catalog.ts';
import { DEFAULT_AGENT_MODEL, resolveAgentModel } from '../../src/core/agents/agent-model.ts';
import { AgentFileError } from '../../src/core/agents/agent-file-error.ts';
import { resolveAgentRuntime } from '../../src/core/agents/agent-runtime.ts';
import { parseAgentFile } from '../../src/core/agents/parse-agent-file.ts';
import { selectTools } from '../../src/core/agents/tools/agent-tool-set.ts';
import { readFileSync } from 'node:fs';

test('parses a Claude Code subagent file unchanged (comma tools, inherit, extra keys)', () => {
  const def = parseAgentFile(
    [
      '---',
      'name: code-reviewer',
      'description: Reviews code',
      'tools: Read, Grep, Glob, WebFetch',
      'model: inherit',
      'color: blue',
      '---',
      '',
      'You review code.',
      '',
    ].join('\n'),
    '/p/.claude/agents/code-reviewer.md',
  );
  assert.equal(def.name, 'code-reviewer');
  assert.deepEqual(def.tools, ['Read', 'Grep', 'Glob', 'WebFetch']);
  assert.equal(def.model, undefined);
  assert.equal(def.systemPrompt, 'You review code.');
  const { tools, ignored } = selectTools(def.tools);
  assert.deepEqual(tools.map((t) => t.name).sort(), ['list_files', 'read_file', 'record_verdict', 'search']);
  assert.deepEqual(ignored, ['WebFetch']);
});

test('parses an Orchestr8 file with a tool list, max_turns and temperature', () => {
  const def = parseAgentFile(
    [
      '---',
      'name: backend',
      'description: d',
      'model: claude-opus-5-5',
      'tools:',
      '  - read_file',
      '  - Bash',
      'max_turns: 7',
      'temperature: 0.2',
      '---',
      'Body',
    ].join('\n'),
    'f.md',
  );
  assert.equal(def.model, 'claude-opus-5-5');
  assert.equal(def.maxTurns, 7);
  assert.equal(def.temperature, 0.2);
  assert.deepEqual(
    selectTools(def.tools)
      .tools.map((t) => t.name)
      .sort(),
    ['read_file', 'record_verdict', 'run_command'],
  );
});

test('runtime: in the frontmatter picks the agent loop; the task and then the setting are weighed against it', () => {
  const def = parseAgentFile(['---', 'name: a', 'description: d', 'runtime: claude-code', '---', 'Body'].join('\n'), 'f.md');
  assert.equal(def.runtime, 'claude-code');
  assert.equal(parseAgentFile(['---', 'name: a', 'description: d', '---', 'Body'].join('\n'), 'f.md').runtime, undefined);
  assert.throws(() => parseAgentFile(['---', 'name: a', 'description: d', 'runtime: codex', '---', 'Body'].join('\n'), 'f.md'), /f\.md:4: "runtime"/);
  assert.equal(resolveAgentRuntime('orchestr8', 'claude-code', 'claude-code'), 'orchestr8');
  assert.equal(resolveAgentRuntime(undefined, 'claude-code', 'orchestr8'), 'claude-code');
  assert.equal(resolveAgentRuntime(undefined, undefined, 'claude-code'), 'claude-code');
  assert.equal(resolveAgentRuntime(undefined, undefined, 'nonsense'), 'orchestr8');
});

test('no tools field grants everything but the shell', () => {
  const names = selectTools(undefined).tools.map((t) => t.name);
  assert.ok(names.includes('write_file') && names.includes('launch_task') && names.includes('wait_for_tasks'));
  assert.ok(!names.includes('run_command'));
});

test('errors name file:line', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['---', 'name: a', 'description: d', 'max_turns: lots', '---', 'x'], 4, /max_turns/],
    [['---', 'name: a', 'description: [unclosed', '---', 'x'], 3, /invalid YAML/],
    [['---', 'description: d', '---', 'x'], 2, /name/],
    [['---', 'name: a', 'description: d', '---', ''], 5, /empty/],
    [['name: a'], 1, /frontmatter/],
  ];
  for (const [lines, line, message] of cases) {
    assert.throws(
      () => parseAgentFile(lines.join('\n'), '/x/agent.md'),
      (error: unknown) =>
        error instanceof AgentFileError && error.line === line && error.message.startsWith(`/x/agent.md:${line}: `) && message.test(error.message),
      `expected line ${line} for ${JSON.stringify(lines)}`,
    );
  }
});

test('model resolution: task over file over default; the default is current and not deprecated', () => {
  assert.equal(resolveAgentModel(undefined, undefined, DEFAULT_AGENT_MODEL), DEFAULT_AGENT_MODEL);
  assert.equal(resolveAgentModel('inherit', 'claude-opus-5-5', 'd'), 'claude-opus-5-5');
  assert.equal(resolveAgentModel('claude-haiku-5-5', 'claude-opus-5-5', 'd'), 'claude-haiku-5-5');
  assert.equal(resolveAgentModel(undefined, 'sonnet', 'd'), 'claude-sonnet-5-5');
  // Read the SDK's own deprecation table (not exported, so from its file) and model list.
  const sdk = join(process.cwd(), 'node_modules/@anthropic-ai/sdk');
  const deprecated = readFileSync(join(sdk, 'internal/data/deprecated-models.mjs'), 'utf8');
  const models = readFileSync(join(sdk, 'resources/messages/messages.d.ts'), 'utf8');
  assert.ok(!deprecated.includes(`'${DEFAULT_AGENT_MODEL}'`), 'default model is deprecated in the SDK');
  assert.match(models, new RegExp(`export type Model = [^;]*'${DEFAULT_AGENT_MODEL}'`));
});

test('discovery: .orchestr8, then .claude, then plugins; later overrides earlier; bad files reported, others load', async () => {
  const root = await mkdtemp(join(tmpdir(), 'o8-agents-'));
  try {
    const put = async (rel: string, name: string, description: string) => {
      await mkdir(join(root, rel, '..'), { recursive: true });
      await writeFile(join(root, rel), `---\nname: ${name}\ndescription: ${description}\n---\nprompt\n`);
    };
    await put('.orchestr8/agents/dev/reviewer.md', 'reviewer', 'from orchestr8');
    await put('.orchestr8/agents/only-here.md', 'only-here', 'x');
    await put('.claude/agents/reviewer.md', 'reviewer', 'from claude');
    await put('plugins/quality/agents/sec/security.md', 'security', 'from plugin');
    await put('plugins/quality/agents/reviewer.md', 'reviewer', 'from plugin');
    await writeFile(join(root, '.claude/agents/broken.md'), '---\nname: broken\n---\nx\n');
    const catalog = await loadAgentCatalog(root);
    assert.equal(catalog.agents.get('reviewer')?.description, 'from plugin');
    assert.ok(catalog.agents.has('only-here') && catalog.agents.has('security'));
    assert.equal(catalog.errors.length, 1);
    assert.match(catalog.errors[0]!.message, /broken\.md:\d+: .*description/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
