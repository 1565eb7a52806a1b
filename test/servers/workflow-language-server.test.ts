import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiagnosticSeverity, type Range } from 'vscode-languageserver/node';
import { LspTestClient } from '../support/lsp-client.ts';
import { tempDir } from '../support/temp-dir.ts';

// A workflow with one problem of each kind the server reports.
const BROKEN = `name: broken
inputs:
  target: src
tasks:
  lint:
    run: npx eslint \${inputs.targt}
    timeout: soon
  review:
    agent: code-reviewr
    prompt: Review \${tasks.lint.result}
    needs: [lint, tset]
  a:
    run: echo a
    needs: b
  b:
    run: echo b
    needs: a
  c:
    run: echo \${oops}
    retry: 2
`;

// Half typed: not even valid YAML (an open quote and an open flow list), as files are while being edited.
const EDITING = `name: editing
inputs:
  target: src
  ticket: { required: true }
tasks:
  lint:
    run: npx eslint \${inputs.target}
  test:
    run: npm test
    needs: lint
  review:
    agent: 
    prompt: "Check \${
    needs: [lint, 
    ti
`;

/** The range of the `nth` occurrence of `token` on 0-based line `line` of `text`: where a diagnostic must point. */
function rangeOf(text: string, line: number, token: string, nth = 0): Range {
  const lineText = text.split('\n')[line]!;
  let at = -1;
  for (let i = 0; i <= nth; i++) at = lineText.indexOf(token, at + 1);
  assert.ok(at >= 0, `fixture line ${line} has no '${token}'`);
  return { start: { line, character: at }, end: { line, character: at + token.length } };
}

function agentFile(root: string, rel: string, name: string, description: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `---\nname: ${name}\ndescription: ${description}\ntools: Read, Grep\n---\nYou review code.\n`);
}

describe('workflow language server over JSON-RPC (stdio)', () => {
  const root = tempDir('o8-lsp-');
  const workflows = path.join(root, '.orchestr8', 'workflows');
  const brokenUri = `file://${path.join(workflows, 'broken.yaml')}`;
  const editingUri = `file://${path.join(workflows, 'editing.yaml')}`;
  let client: LspTestClient;

  before(async () => {
    fs.mkdirSync(workflows, { recursive: true });
    agentFile(root, '.orchestr8/agents/reviewer.md', 'code-reviewer', 'Reviews a change for bugs and style.');
    agentFile(root, 'plugins/security/agents/auditor.md', 'security-auditor', 'Looks for injection and leaked secrets.');
    fs.writeFileSync(path.join(root, '.orchestr8/agents/README.md'), '# not an agent\n');
    client = await LspTestClient.start(root);
  });
  after(async () => {
    assert.equal(await client.stop(), 0, 'the server exits cleanly on shutdown + exit');
  });

  it('publishes every problem of a broken file at its exact range', async () => {
    await client.open(brokenUri, BROKEN, 1);
    const { diagnostics } = await client.diagnostics(brokenUri, 1);
    const got = diagnostics.map((d) => ({ range: d.range, severity: d.severity, source: d.source, message: d.message }));
    const error = (range: Range, message: string) => ({ range, severity: DiagnosticSeverity.Error, source: 'orchestr8', message });
    assert.deepEqual(got, [
      error(rangeOf(BROKEN, 5, '${inputs.targt}'), "${inputs.targt}: unknown input 'targt'; did you mean 'target'? (declared inputs: target)"),
      error(rangeOf(BROKEN, 6, 'soon'), 'tasks.lint.timeout: invalid duration "soon": use a number of seconds or a duration like 250ms, 30s, 5m, 1h, 1h30m'),
      error(rangeOf(BROKEN, 8, 'code-reviewr'), "unknown agent 'code-reviewr'; did you mean 'code-reviewer'? (agents: code-reviewer, security-auditor)"),
      error(rangeOf(BROKEN, 10, 'tset'), "unknown need 'tset' (tasks: lint, review, a, b, c)"),
      error(rangeOf(BROKEN, 13, 'b'), 'dependency cycle: a -> b -> a'),
      error(
        rangeOf(BROKEN, 18, '${oops}'),
        'malformed reference "${oops}": use ${inputs.NAME} or ${tasks.ID.result} (write "$${oops}" for a literal "${oops}")',
      ),
      error(
        rangeOf(BROKEN, 19, 'retry'),
        "unknown key 'retry' (allowed: name, run, env, agent, prompt, model, runtime, wait, needs, timeout, retries, continue_on_error, priority, sandbox, budget)",
      ),
    ]);
  });

  it('re-checks on every change: fixing the agent name clears its diagnostic, and hover shows the agent', async () => {
    const fixed = BROKEN.replace('code-reviewr', 'code-reviewer');
    await client.replace(brokenUri, fixed, 2);
    const { diagnostics } = await client.diagnostics(brokenUri, 2);
    assert.equal(diagnostics.length, 6);
    assert.ok(!diagnostics.some((d) => String(d.message).includes('unknown agent')), JSON.stringify(diagnostics));

    const hover = await client.hover(brokenUri, 8, 15);
    assert.deepEqual(hover?.range, rangeOf(fixed, 8, 'code-reviewer'));
    const value = (hover?.contents as { value: string } | undefined)?.value ?? '';
    assert.match(value, /^\*\*code-reviewer\*\*\n\nReviews a change for bugs and style\.\n\nDefined in \[\.orchestr8\/agents\/reviewer\.md\]\(file:\/\//);
    assert.equal(await client.hover(brokenUri, 9, 6), null, 'no hover away from an agent name');
  });

  it('a valid file has no diagnostics', async () => {
    const uri = `file://${path.join(workflows, 'ok.yaml')}`;
    await client.open(uri, 'name: ok\ntasks:\n  review:\n    agent: security-auditor\n    prompt: look\n', 1);
    assert.deepEqual((await client.diagnostics(uri, 1)).diagnostics, []);
  });

  it('checks a file once after a burst of edits, not once per edit', async () => {
    const uri = `file://${path.join(workflows, 'typing.yaml')}`;
    await client.open(uri, 'name: t\ntasks:\n  a:\n    run: echo\n', 1);
    for (let v = 2; v <= 5; v++) await client.replace(uri, `name: t\ntasks:\n  a:\n    run: echo\n    needs: ${'x'.repeat(v)}\n`, v);
    const { diagnostics } = await client.diagnostics(uri, 5);
    assert.equal(diagnostics[0]!.message, "unknown need 'xxxxx' (tasks: a)");
    // Normally just [5]; a machine stalled for longer than the debounce between two sends may publish one more.
    const versions = client.publishedVersions(uri);
    assert.equal(versions.at(-1), 5);
    assert.ok(versions.length <= 2, `published for versions ${versions.join(', ')} of 5 edits`);
  });

  describe('completions in a half-typed file', () => {
    before(() => client.open(editingUri, EDITING, 1));
    const labels = (items: { label: string }[]) => items.map((i) => i.label);

    it('offers the project agents after agent:', async () => {
      const items = await client.completions(editingUri, 11, 11);
      assert.deepEqual(labels(items), ['code-reviewer', 'security-auditor']);
      assert.equal(items[1]!.detail, 'Looks for injection and leaked secrets.');
      assert.deepEqual((items[0]!.textEdit as { range: Range }).range, { start: { line: 11, character: 11 }, end: { line: 11, character: 11 } });
    });

    it('offers inputs and other tasks results inside ${', async () => {
      const items = await client.completions(editingUri, 12, 21);
      assert.deepEqual(labels(items), ['inputs.target', 'inputs.ticket', 'tasks.lint.result', 'tasks.test.result']);
      assert.deepEqual(items[2]!.textEdit, { range: { start: { line: 12, character: 21 }, end: { line: 12, character: 21 } }, newText: 'tasks.lint.result}' });
    });

    it('offers task ids not yet listed in needs (and not the task itself)', async () => {
      const items = await client.completions(editingUri, 13, 18);
      assert.deepEqual(labels(items), ['test']);
    });

    it('offers the task keys not yet written, replacing what is typed', async () => {
      const items = await client.completions(editingUri, 14, 6);
      assert.deepEqual(labels(items), [
        'name',
        'run',
        'env',
        'model',
        'runtime',
        'wait',
        'timeout',
        'retries',
        'continue_on_error',
        'priority',
        'sandbox',
        'budget',
      ]);
      assert.deepEqual(items[0]!.textEdit, { range: { start: { line: 14, character: 4 }, end: { line: 14, character: 6 } }, newText: 'name: ' });
    });

    it('offers top-level keys at the top level and nothing where a task id is named', async () => {
      await client.replace(editingUri, `${EDITING}  \nco`, 2);
      assert.deepEqual(labels(await client.completions(editingUri, 16, 2)), [
        'description',
        'concurrency',
        'workspace',
        'sandbox',
        'webhooks',
        'pull_request',
        'permissions',
        'budget',
        'resolve_conflicts',
        'push',
        'include',
      ]);
      assert.deepEqual(await client.completions(editingUri, 15, 2), []);
    });
  });
});
