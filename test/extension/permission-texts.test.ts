import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';
import { pausedToast, requestSummary, requestToast } from '../../src/extension/presenters/permission-texts.ts';
import { presentRun, presentTask } from '../../src/extension/presenters/tree-items.ts';

const task = (extra: Partial<TaskRecord>): TaskRecord => ({
  id: 'r1.work',
  runId: 'r1',
  key: 'work',
  name: 'work',
  action: { kind: 'agent', agent: 'shell', prompt: 'p' },
  needs: [],
  state: 'needs-input',
  priority: 0,
  order: 0,
  attempt: 1,
  retry: DEFAULT_RETRY,
  continueOnError: false,
  updatedAt: 0,
  ...extra,
});

test('a permission request: its toast names the command and offers the three answers; its row has a distinct icon and context', () => {
  const asking = task({ request: { kind: 'permission', id: 't1', tool: 'Bash', call: 'Bash(npm publish)', rule: 'Bash(npm publish:*)', askedAt: 0 } });
  assert.deepEqual(requestToast(asking, 'release'), {
    message: 'Orchestr8: work (release) asks to run Bash(npm publish)',
    actions: ['Allow Once', 'Allow for This Run', 'Deny…'],
  });
  const row = presentTask(asking, 0);
  assert.equal(row.contextValue, 'task:needs-input:permission:agent');
  assert.equal(row.icon.id, 'question');
  assert.equal(row.description, 'asks: Bash(npm publish)');
});

test('a budget request: raise or stop; the row shows spent / budget', () => {
  const atBudget = task({
    budget: { usd: 0.5 },
    request: { kind: 'budget', id: 'b', scope: 'task', budget: { usd: 0.5 }, spent: { usd: 0.52, tokens: 4000 }, askedAt: 0 },
  });
  const toast = requestToast(atBudget, 'review')!;
  assert.deepEqual(toast.actions, ['Raise Budget', 'Stop']);
  assert.match(toast.message, /its budget of \$0\.5 is spent \(\$0\.5200, 4000 tokens\): raise the budget or stop/);
  assert.equal(requestSummary(atBudget), 'budget reached: raise or stop');
  const row = presentTask(atBudget, 0, { inputTokens: 3000, outputTokens: 1000, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.52 });
  assert.equal(row.contextValue, 'task:needs-input:budget:agent');
  assert.match(row.description, /\$0\.52 \/ \$0\.5 budget/);
});

test('a paused run: its toast says why and when it tries again; its row says paused', () => {
  const run: RunRecord = {
    id: 'r1',
    name: 'nightly',
    inputs: {},
    state: 'paused',
    single: false,
    cwd: '/',
    createdAt: 0,
    pause: { reason: 'Anthropic API overloaded (529 after 4 retries)', since: 0, until: Date.UTC(2026, 0, 1, 12, 0, 30) },
  };
  const toast = pausedToast(run);
  assert.deepEqual(toast.actions, ['Resume']);
  assert.match(toast.message, /^Orchestr8: run nightly paused: Anthropic API overloaded \(529 after 4 retries\)\. It tries again at .+\.$/);
  const row = presentRun(run, undefined, 1000);
  assert.equal(row.contextValue, 'run:paused');
  assert.equal(row.icon.id, 'debug-pause');
  assert.match(row.tooltip, /Paused: Anthropic API overloaded/);
  const { until: _until, ...byHand } = run.pause!;
  assert.match(pausedToast({ ...run, pause: { ...byHand, reason: 'paused by the user' } }).message, /It waits until you resume it\.$/);
});
