import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RETRY, type WorkflowDef } from '../../src/core/model/workflow.ts';
import { analyzeWorkflow, loadWorkflowFile, parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { WorkflowError, type WorkflowIssue } from '../../src/core/workflow/workflow-error.ts';

const FULL = `name: quality-gates
description: Lint, test and review
inputs:
  target: { description: Folder to check, default: src }
  ticket: { required: true }
concurrency: 4
workspace: worktree
webhooks: [https://example.test/hook]
pull_request: { draft: true, base: main, title: Quality gates }
tasks:
  lint:
    run: npx eslint \${inputs.target}
    env: { CI: "1", DEPTH: 3 }
    timeout: 2m
    retries: 2
  test:
    name: Unit tests
    run: npm test
    needs: [lint]
    continue_on_error: true
    priority: 10
    retries: { max: 3, backoff: 500ms, max_delay: 1h30m, factor: 3, jitter: false }
  review:
    agent: code-reviewer
    model: claude-test
    prompt: "Review \${inputs.target}. Lint said: \${tasks.lint.result}"
    needs: lint
  approve:
    wait: Approve the deploy?
    timeout: 1h
  gate:
    wait: true
    needs: [test, review]
  note:
    wait: { message: "Ticket \${inputs.ticket}: \${tasks.lint.result}" }
    needs: gate
`;

test('a complete workflow parses to the expected WorkflowDef', () => {
  const def = parseWorkflow(FULL, 'wf.yaml');
  const retry = { ...DEFAULT_RETRY };
  const expected: WorkflowDef = {
    name: 'quality-gates',
    description: 'Lint, test and review',
    concurrency: 4,
    options: {
      workspace: 'worktree',
      webhooks: ['https://example.test/hook'],
      pull_request: { draft: true, base: 'main', title: 'Quality gates' },
    },
    inputs: [
      { name: 'target', description: 'Folder to check', default: 'src', required: false, pos: { file: 'wf.yaml', line: 4, col: 3 } },
      { name: 'ticket', required: true, pos: { file: 'wf.yaml', line: 5, col: 3 } },
    ],
    tasks: [
      {
        id: 'lint',
        needs: [],
        action: { kind: 'run', run: 'npx eslint ${inputs.target}', env: { CI: '1', DEPTH: '3' } },
        timeoutMs: 120_000,
        retry: { ...retry, max: 2 },
        continueOnError: false,
        priority: 0,
        pos: { file: 'wf.yaml', line: 11, col: 3 },
      },
      {
        id: 'test',
        name: 'Unit tests',
        needs: ['lint'],
        action: { kind: 'run', run: 'npm test' },
        retry: { max: 3, backoffMs: 500, maxDelayMs: 5_400_000, factor: 3, jitter: false },
        continueOnError: true,
        priority: 10,
        pos: { file: 'wf.yaml', line: 16, col: 3 },
      },
      {
        id: 'review',
        needs: ['lint'],
        action: { kind: 'agent', agent: 'code-reviewer', model: 'claude-test', prompt: 'Review ${inputs.target}. Lint said: ${tasks.lint.result}' },
        retry,
        continueOnError: false,
        priority: 0,
        pos: { file: 'wf.yaml', line: 23, col: 3 },
      },
      {
        id: 'approve',
        needs: [],
        action: { kind: 'wait', message: 'Approve the deploy?' },
        timeoutMs: 3_600_000,
        retry,
        continueOnError: false,
        priority: 0,
        pos: { file: 'wf.yaml', line: 28, col: 3 },
      },
      {
        id: 'gate',
        needs: ['test', 'review'],
        action: { kind: 'wait' },
        retry,
        continueOnError: false,
        priority: 0,
        pos: { file: 'wf.yaml', line: 31, col: 3 },
      },
      {
        id: 'note',
        needs: ['gate'],
        action: { kind: 'wait', message: 'Ticket ${inputs.ticket}: ${tasks.lint.result}' },
        retry,
        continueOnError: false,
        priority: 0,
        pos: { file: 'wf.yaml', line: 34, col: 3 },
      },
    ],
  };
  assert.deepEqual(def, expected);
});

test('analyzeWorkflow outlines task ids and inputs with ranges, even for a broken file', () => {
  const { workflow, issues, outline } = analyzeWorkflow('name: x\ninputs:\n  who: {}\ntasks:\n  a: { run: echo }\n  b: { nope: 1 }\n', 'o.yaml');
  assert.equal(workflow, undefined);
  assert.equal(issues.length, 1);
  assert.deepEqual(outline.inputs, [{ name: 'who', range: { line: 3, col: 3, endLine: 3, endCol: 6 } }]);
  assert.deepEqual(outline.tasks, [
    { id: 'a', range: { line: 5, col: 3, endLine: 5, endCol: 4 } },
    { id: 'b', range: { line: 6, col: 3, endLine: 6, endCol: 4 } },
  ]);
});

/** Parses `text` expecting failure, and returns `line:col: message` of each issue. */
function problems(text: string, file = 'w.yaml'): WorkflowIssue[] {
  try {
    parseWorkflow(text, file);
  } catch (e) {
    assert.ok(e instanceof WorkflowError, String(e));
    assert.equal(e.message, e.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n'));
    return [...e.issues];
  }
  assert.fail('expected a WorkflowError');
}

const at = (i: WorkflowIssue) => `${i.line}:${i.col}`;

test('unknown keys are reported at the key, with a suggestion and the allowed keys', () => {
  const issues = problems('name: x\ntasks:\n  a:\n    run: echo\n    need: [b]\n  b: { run: echo, retries: { max: 1, jitter: true, backof: 1s } }\n');
  assert.deepEqual(issues.map(at), ['5:5', '6:52']);
  assert.match(issues[0]!.message, /^unknown key 'need'; did you mean 'needs'\? \(allowed: name, run, env, agent, prompt, model, runtime, wait, needs,/);
  assert.match(issues[1]!.message, /^unknown key 'backof'; did you mean 'backoff'\?/);
  assert.deepEqual({ endLine: issues[0]!.endLine, endCol: issues[0]!.endCol }, { endLine: 5, endCol: 9 });
});

test('wrong types are reported at the value and say what was found', () => {
  const issues = problems('name: [x]\nconcurrency: 0\ntasks:\n  a:\n    run: echo\n    priority: high\n    continue_on_error: "yes"\n    needs: [1]\n');
  assert.deepEqual(
    issues.map((i) => `${at(i)} ${i.message}`),
    [
      '1:7 name: expected a string, got a list',
      '2:14 concurrency: must be > 0, got the number 0',
      '6:15 tasks.a.priority: expected a number, got the string "high"',
      '7:24 tasks.a.continue_on_error: expected a boolean, got the string "yes"',
      '8:13 tasks.a.needs[0]: expected a string, got the number 1',
    ],
  );
});

test('a missing name is reported at the top; empty tasks at the tasks key', () => {
  const issues = problems('description: nothing\ntasks: {}\n');
  assert.deepEqual(
    issues.map((i) => `${at(i)} ${i.message}`),
    ["1:1 missing required key 'name'", '2:1 tasks is empty: declare at least one task'],
  );
  assert.deepEqual(
    problems('name: x\ntasks:\n  a:\n    run: a\n    retries: { backoff: 1s }\n').map((i) => `${at(i)} ${i.message}`),
    ["5:5 missing required key 'max' in tasks.a.retries"],
  );
  assert.deepEqual(
    problems('').map((i) => `${at(i)} ${i.message}`),
    ['1:1 the file is empty: a workflow needs at least a name and tasks'],
  );
  assert.deepEqual(
    problems('name: x\ntasks:\n  a:\n').map((i) => `${at(i)} ${i.message}`),
    ["3:3 task 'a' is empty: give it run, agent + prompt, or wait"],
  );
});

test('unknown needs are reported at the need entry, list or single string', () => {
  const issues = problems(
    'name: x\ntasks:\n  build: { run: make }\n  test:\n    run: make test\n    needs: [build, biuld]\n  ship:\n    run: ship\n    needs: tset\n',
  );
  assert.deepEqual(
    issues.map((i) => `${at(i)} ${i.message}`),
    [
      "6:20 unknown need 'biuld'; did you mean 'build'? (tasks: build, test, ship)",
      "9:12 unknown need 'tset'; did you mean 'test'? (tasks: build, test, ship)",
    ],
  );
});

test('a dependency cycle is printed and pointed at the need that closes it', () => {
  const issues = problems(
    'name: x\ntasks:\n  a:\n    run: a\n    needs: [c]\n  b:\n    run: b\n    needs: [a]\n  c:\n    run: c\n    needs: b\n  d: { run: d, needs: d }\n',
  );
  assert.deepEqual(
    issues.map((i) => `${at(i)} ${i.message}`),
    ['5:13 dependency cycle: a -> c -> b -> a'],
  );
  const self = problems('name: x\ntasks:\n  d: { run: d, needs: d }\n');
  assert.deepEqual(
    self.map((i) => `${at(i)} ${i.message}`),
    ['3:23 dependency cycle: d -> d'],
  );
});

test('bad durations are reported at the value', () => {
  const issues = problems('name: x\ntasks:\n  a:\n    run: a\n    timeout: 5 minutes\n    retries: { max: 1, backoff: -3 }\n  b: { run: b, timeout: 0 }\n');
  assert.deepEqual(
    issues.map((i) => `${at(i)} ${i.message}`),
    [
      '5:14 tasks.a.timeout: invalid duration "5 minutes": use a number of seconds or a duration like 250ms, 30s, 5m, 1h, 1h30m',
      '6:33 tasks.a.retries.backoff: invalid duration -3: use a number of seconds or a duration like 250ms, 30s, 5m, 1h, 1h30m',
      '7:25 timeout must be longer than 0',
    ],
  );
});

test('references: undeclared input, a result of a task that is not a need, malformed ${...}', () => {
  const text = [
    'name: x',
    'inputs:',
    '  target: { default: src }',
    'tasks:',
    '  lint:',
    '    run: eslint ${inputs.targte} $${HOME} ${HOME}',
    '  other: { run: echo other }',
    '  review:',
    '    agent: reviewer',
    '    needs: [lint]',
    '    prompt: "Lint: ${tasks.lint.result}; other: ${tasks.other.result}; ${tasks.nope.result}; ${inputs.target"',
    '  deep:',
    '    run: echo ${tasks.lint.result}',
    '    needs: review',
  ].join('\n');
  const issues = problems(text);
  assert.deepEqual(issues.map(at), ['6:17', '6:43', '11:49', '11:72', '11:94']);
  assert.equal(issues[0]!.message, "${inputs.targte}: unknown input 'targte'; did you mean 'target'? (declared inputs: target)");
  assert.equal(issues[0]!.endCol, 33);
  assert.match(
    issues[1]!.message,
    /^malformed reference "\$\{HOME\}": use \$\{inputs.NAME\} or \$\{tasks.ID.result\} \(write "\$\$\{HOME\}" for a literal "\$\{HOME\}"\)$/,
  );
  assert.equal(
    issues[2]!.message,
    "${tasks.other.result}: task 'review' does not need 'other' (directly or through its needs), so its result may not exist yet; add it to needs",
  );
  assert.equal(issues[3]!.message, "${tasks.nope.result}: unknown task 'nope'");
  assert.match(issues[4]!.message, /^unterminated "\$\{"/);
});

test('action rules: exactly one of run / agent + prompt / wait', () => {
  const text = [
    'name: x',
    'tasks:',
    '  both: { run: a, wait: true }',
    '  lonely-agent: { agent: r }',
    '  lonely-prompt: { prompt: hi }',
    '  none: { name: nothing }',
    '  stray: { run: a, model: m }',
    '  9lives: { run: a }',
    '  ok: { wait: false }',
  ].join('\n');
  assert.deepEqual(
    problems(text).map((i) => `${at(i)} ${i.message}`),
    [
      "3:19 task 'both' has both 'run' and 'wait': a task does exactly one of run, agent + prompt, or wait",
      "4:19 task 'lonely-agent' has an agent but no prompt: add 'prompt: ...'",
      "5:20 task 'lonely-prompt' has a prompt but no agent: add 'agent: <name>'",
      "6:3 task 'none' has nothing to do: give it run, agent + prompt, or wait",
      "7:20 'model' only applies to agent tasks, and task 'stray' is a run task",
      "8:3 invalid task id '9lives': use letters, digits, _ and -, starting with a letter",
      '9:15 tasks.ok.wait: expected a message, true, or { message }, got false',
    ],
  );
});

test('duplicate keys and YAML syntax errors come with their positions', () => {
  assert.deepEqual(
    problems('name: x\ntasks:\n  a: { run: a }\n  a: { run: b }\n').map((i) => `${at(i)} ${i.message}`),
    ["4:3 duplicate key 'a': a key may appear only once in a map"],
  );
  assert.deepEqual(
    problems('name: x\ntasks:\n  a: { run: a }\n---\nname: y\n').map((i) => `${at(i)} ${i.message}`),
    ["4:1 a workflow file holds one YAML document: remove this '---' and what follows"],
  );
  assert.deepEqual(
    problems('name: x\ntasks:\n\ta: { run: a }\n').map((i) => `${at(i)} ${i.message}`),
    ['3:1 Tabs are not allowed as indentation'],
  );
  // The yaml package notices an unclosed quote where the file ends.
  assert.deepEqual(
    problems('name: x\ntasks:\n  a:\n    run: "echo\n  b: [\n').map((i) => `${at(i)} ${i.message}`),
    ['6:1 Missing closing "quote'],
  );
  assert.deepEqual(
    problems('name: x\ntasks: { a: { run: a }\n')
      .map((i) => `${at(i)} ${i.message}`)
      .slice(0, 1),
    ['3:1 Flow map in block collection must be sufficiently indented and end with a }'],
  );
  assert.deepEqual(
    problems('- just\n- a list\n').map((i) => `${at(i)} ${i.message}`),
    ['1:1 expected a map with name and tasks at the top, got a list'],
  );
});

test('every issue is collected, not just the first', () => {
  const issues = problems('name: x\nbogus: 1\ninputs:\n  a: { required: maybe }\ntasks:\n  t: { run: a, needs: zz }\n  u: { run: b, timeout: soon }\n');
  assert.deepEqual(issues.map(at), ['2:1', '4:18', '6:23', '7:25']);
});

test('loadWorkflowFile reads a file, records its absolute path, and names a missing file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'o8-wf-'));
  try {
    const file = join(dir, 'w.yaml');
    await writeFile(file, 'name: x\ntasks:\n  a: { run: echo hi }\n');
    const def = await loadWorkflowFile(file);
    assert.equal(def.file, file);
    assert.equal(def.tasks[0]!.pos?.file, file);
    const missing = join(dir, 'nope.yaml');
    await assert.rejects(loadWorkflowFile(missing), { name: 'WorkflowError', message: `${missing}: cannot read workflow file: no such file` });
    await writeFile(file, 'name: x\ntasks:\n  a: { run: echo hi, needs: b }\n');
    await assert.rejects(loadWorkflowFile(file), { message: `${file}:3:29: unknown need 'b' (tasks: a)` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('references inside block scalars and in otherwise broken tasks are located too', () => {
  const text = [
    'name: x',
    'tasks:',
    '  a:',
    '    run: |',
    '      echo one',
    '      echo ${inputs.nope} and ${tasks.zz.result}',
    '    env: { OK: [1] }',
    '  b:',
    '    agent: r',
    '    prompt: "say \\" ${tasks.a.result}"',
  ].join('\n');
  assert.deepEqual(
    problems(text).map((i) => `${at(i)} ${i.message}`),
    [
      "6:12 ${inputs.nope}: unknown input 'nope' (the workflow declares no inputs)",
      "6:31 ${tasks.zz.result}: unknown task 'zz'",
      '7:16 tasks.a.env.OK: expected a string, got a list',
      "10:21 ${tasks.a.result}: task 'b' does not need 'a' (directly or through its needs), so its result may not exist yet; add it to needs",
    ],
  );
});

test('adapter options are checked: workspace, webhooks, pull_request', () => {
  const text = 'name: x\nworkspace: tmp\nwebhooks: [ftp://x, https://ok.test/h]\npull_request: { draft: "yes", labels: [a] }\ntasks:\n  a: { run: a }\n';
  assert.deepEqual(
    problems(text).map((i) => `${at(i)} ${i.message}`),
    [
      '2:12 workspace: expected one of "worktree", "in-place", got the string "tmp"',
      '3:12 webhooks[0]: expected an http(s) URL',
      '4:24 pull_request.draft: expected a boolean, got the string "yes"',
      "4:31 unknown key 'labels' (allowed: draft, base, title)",
    ],
  );
});

test('a reference inside a quoted heredoc is reported at parse time', () => {
  const text = "name: x\ninputs:\n  who: { default: me }\ntasks:\n  a:\n    run: |\n      cat <<'EOF'\n      hi ${inputs.who}\n      EOF\n";
  assert.deepEqual(
    problems(text).map((i) => `${at(i)} ${i.message}`),
    ["8:10 ${inputs.who} is inside a heredoc with a quoted delimiter (<<'EOF'), where nothing expands; use an unquoted delimiter"],
  );
});

test('the example in docs/workflow-format.md parses', async () => {
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile(new URL('../../docs/workflow-format.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml, 'the doc has a yaml example');
  const def = parseWorkflow(yaml, 'workflow-format.md');
  assert.deepEqual(
    def.tasks.map((t) => [t.id, t.action.kind, t.needs]),
    [
      ['lint', 'run', []],
      ['test', 'run', ['lint']],
      ['review', 'agent', ['lint']],
      ['approve', 'wait', []],
    ],
  );
});

test('contradictions: a required input with a default, max_delay shorter than backoff', () => {
  const text = 'name: x\ninputs:\n  who: { required: true, default: me }\ntasks:\n  a:\n    run: a\n    retries: { max: 2, backoff: 10s, max_delay: 1s }\n';
  assert.deepEqual(
    problems(text).map((i) => `${at(i)} ${i.message}`),
    ["3:20 input 'who' has a default, so it is never missing: drop 'required' or 'default'", '7:49 max_delay must not be shorter than backoff'],
  );
});

test('sandbox: a workflow default for its run tasks, a task overrides it, only run tasks take it', () => {
  const wf = parseWorkflow(
    `name: s
sandbox: true
tasks:
  a: { run: echo a }
  b: { run: echo b, sandbox: false }
  c: { agent: x, prompt: y }
`,
    'w.yml',
  );
  assert.deepEqual(
    wf.tasks.map((t) => t.action),
    [
      { kind: 'run', run: 'echo a', sandbox: true },
      { kind: 'run', run: 'echo b', sandbox: false },
      { kind: 'agent', agent: 'x', prompt: 'y' },
    ],
  );
  assert.deepEqual(parseWorkflow('name: s\ntasks:\n  a: { run: echo a }\n', 'w.yml').tasks[0]!.action, { kind: 'run', run: 'echo a' });
  assert.throws(
    () => parseWorkflow('name: s\ntasks:\n  c: { agent: x, prompt: y, sandbox: true }\n', 'w.yml'),
    /'sandbox' only applies to run tasks, and task 'c' is a agent task/,
  );
});

test('runtime: picks the agent loop of an agent task; other values and other task kinds are reported', () => {
  const wf = parseWorkflow(
    'name: x\ntasks:\n  review: { agent: reviewer, prompt: hi, runtime: claude-code }\n  plain: { agent: reviewer, prompt: hi }\n',
    'x.yaml',
  );
  assert.deepEqual(wf.tasks.find((t) => t.id === 'review')!.action, { kind: 'agent', agent: 'reviewer', prompt: 'hi', runtime: 'claude-code' });
  assert.deepEqual(wf.tasks.find((t) => t.id === 'plain')!.action, { kind: 'agent', agent: 'reviewer', prompt: 'hi' });
  const issues = problems('name: x\ntasks:\n  a: { agent: r, prompt: p, runtime: codex }\n  b: { run: make, runtime: claude-code }\n').map(
    (i) => `${at(i)} ${i.message}`,
  );
  assert.equal(issues.length, 2);
  assert.match(issues[0]!, /^3:\d+ tasks\.a\.runtime: expected one of "orchestr8", "claude-code"/);
  assert.match(issues[1]!, /^4:\d+ 'runtime' only applies to agent tasks, and task 'b' is a run task/);
});
