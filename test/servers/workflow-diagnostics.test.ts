import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { workflowDiagnostics } from '../../src/servers/lsp/workflow-diagnostics.ts';
import { resolveWorkflowPath } from '../../src/servers/agent-tools/workflow-files.ts';

const AGENT_TASK = 'name: w\ntasks:\n  review:\n    agent: reviewer\n    prompt: look\n';

describe('workflow diagnostics', () => {
  it('warns (not errs) about an agent when the project defines none the server can see', () => {
    const [d, ...rest] = workflowDiagnostics(AGENT_TASK, 'w.yaml', []);
    assert.deepEqual(rest, []);
    assert.equal(d!.severity, DiagnosticSeverity.Warning);
    assert.deepEqual(d!.range, { start: { line: 3, character: 11 }, end: { line: 3, character: 19 } });
    assert.match(
      String(d!.message),
      /^agent 'reviewer' is not defined in this project \(no agents found in \.orchestr8\/agents, \.claude\/agents, plugins\/\*\/agents\)$/,
    );
  });

  it('leaves agent names alone when the agent list is unknown', () => {
    assert.deepEqual(workflowDiagnostics(AGENT_TASK, 'w.yaml'), []);
  });

  it('reports a YAML syntax error at its place, and nothing else', () => {
    const diagnostics = workflowDiagnostics('name: w\ntasks:\n  a: run: echo\n', 'w.yaml', []);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.range.start.line, 2);
    assert.equal(diagnostics[0]!.source, 'orchestr8');
  });
});

describe('workflow paths named by an agent', () => {
  it('finds a bare name in .orchestr8/workflows and refuses paths out of the project', () => {
    assert.equal(resolveWorkflowPath('/p', 'greet'), '/p/.orchestr8/workflows/greet.yaml');
    assert.equal(resolveWorkflowPath('/p', 'greet.yml'), '/p/.orchestr8/workflows/greet.yml');
    assert.equal(resolveWorkflowPath('/p', 'ci/build.yaml'), '/p/ci/build.yaml');
    assert.throws(() => resolveWorkflowPath('/p', '../etc/x.yaml'), /outside the project/);
    assert.throws(() => resolveWorkflowPath('/p', '/etc/passwd'), /outside the project/);
  });
});
