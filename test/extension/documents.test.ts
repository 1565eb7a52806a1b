import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { URI } from 'vscode-uri';
import type { TaskResult } from '../../src/core/model/records.ts';
import { documentUri, parseDocumentUri } from '../../src/extension/presenters/document-uris.ts';
import { renderLog, renderResult, renderRunSummary } from '../../src/extension/presenters/documents.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

let fx: EngineFixture;
before(async () => {
  fx = await openEngine();
});
after(async () => fx.close());

test('document URIs round-trip and carry a readable .md name', () => {
  const uri = documentUri({ kind: 'result', taskId: '4f2c1a2b3c4d.build' }, 'build: result/1');
  assert.equal(uri.scheme, 'orchestr8');
  assert.equal(uri.path, '/result/4f2c1a2b3c4d.build/build- result-1.md');
  assert.deepEqual(parseDocumentUri(uri.toString()), { kind: 'result', taskId: '4f2c1a2b3c4d.build' });
  assert.deepEqual(parseDocumentUri(documentUri({ kind: 'run', runId: '4f2c1a2b3c4d' }, 'x')), { kind: 'run', runId: '4f2c1a2b3c4d' });
  assert.deepEqual(parseDocumentUri(URI.parse('orchestr8:/log/ab.c/ab.md')), { kind: 'log', taskId: 'ab.c' });
  for (const bad of ['file:///result/a.b/x.md', 'orchestr8:/result/nodot/x.md', 'orchestr8:/other/a.b/x.md', 'orchestr8:/result/..%2Fetc/x.md']) {
    assert.equal(parseDocumentUri(bad), undefined, bad);
  }
});

test('results, logs and run summaries render from a real run', async () => {
  const { runId } = await fx.engine.launch({
    workflow: workflow(
      [
        'name: docs',
        'inputs:',
        '  who: { default: world }',
        'tasks:',
        '  hello:',
        `    run: echo "hello \${inputs.who}" && echo '\`\`\`'`,
        '  boom:',
        '    needs: hello',
        '    run: echo partial && exit 4',
      ].join('\n'),
    ),
    inputs: { who: 'reader' },
  });
  await fx.next('workflow.failed', (e) => e.run.id === runId);
  const { run, tasks } = await fx.engine.status(runId);
  const hello = tasks.find((t) => t.key === 'hello')!;
  const boom = tasks.find((t) => t.key === 'boom')!;
  const result = (await fx.engine.result(hello.id))!;

  const doc = renderResult(run, hello, result, undefined, Date.now());
  assert.match(doc, /^# hello — result\n/);
  assert.match(doc, /· exit 0/);
  assert.match(doc, /````text\nhello reader\n```\n````/, 'shell output fenced past its own backticks');

  const failed = renderResult(run, boom, await fx.engine.result(boom.id), undefined, Date.now());
  assert.match(failed, /The task failed:\n\n```text\nexited with code 4/);

  const log = renderLog(boom, await fx.engine.log(boom.id), Date.now());
  assert.match(log, /# boom — log/);
  assert.match(log, /partial/);
  assert.doesNotMatch(log, /updates live/, 'a finished task’s log is final');

  const results = new Map<string, TaskResult>([[hello.id, result]]);
  const summary = renderRunSummary(run, tasks, results, Date.now());
  assert.match(summary, /^# docs\n\nRun `[0-9a-f]{12}` · failed · took /);
  assert.match(summary, /- \*\*who\*\*: reader/);
  assert.match(summary, /\| hello \| completed \| \S+ \| 1 \|\n\| boom \| failed \| \S+ \| 1 \|/);
  assert.match(summary, /## boom\n\n```text\nexited with code 4/);
  assert.doesNotMatch(summary, /Tokens:/, 'no agent, no spending line');
  const spent = renderRunSummary(run, tasks, results, Date.now(), {
    inputTokens: 12_000,
    outputTokens: 3_400,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.0871,
  });
  assert.match(spent, /^# docs\n\nRun .*\n\nTokens: 12k in, 3\.4k out · \$0\.0871\n/, 'what the run cost, under its title');
});

test('a running task’s log says it updates live; agent results render as markdown, not code', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow('name: live-log\ntasks:\n  tick:\n    run: echo first && sleep 0.3 && echo second\n') });
  const started = await fx.next('task.started', (e) => e.task.runId === runId);
  await fx.next('task.progress', (e) => e.runId === runId && e.text.includes('first'));
  const live = renderLog(started.task, await fx.engine.log(started.task.id), Date.now());
  assert.match(live, /running for .* · updates live/);
  assert.match(live, /first/);
  await fx.next('workflow.completed', (e) => e.run.id === runId);

  const { run, tasks } = await fx.engine.status(runId);
  const agentTask = { ...tasks[0]!, action: { kind: 'agent' as const, agent: 'writer', prompt: 'Summarise' } };
  const agentDoc = renderResult(
    run,
    agentTask,
    { taskId: agentTask.id, runId, output: '## Summary\n\n- one', createdAt: 0 },
    { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.01 },
    Date.now(),
  );
  assert.match(agentDoc, /\n## Summary\n\n- one\n$/);
  assert.match(agentDoc, /Tokens: 1\.2k in, 300 out · \$0\.0100/);
});
