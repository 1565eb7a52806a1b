import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressView } from '../../src/cli/progress-view.ts';
import type { RunRecord } from '../../src/core/model/records.ts';

function stream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') } as unknown as NodeJS.WriteStream & { text: () => string };
}

const run: RunRecord = { id: 'r1', name: 'build', inputs: {}, state: 'running', single: false, cwd: '/p', createdAt: Date.now() };
const REASON = 'ENOSPC: no space left on device, write (journal in /s/journal)';

test('the CLI progress says when the owner pauses on a full disk, and when it resumes', () => {
  const out = stream(false);
  const view = new ProgressView(run, [], out);
  view.update({ type: 'engine.storage', state: 'paused', reason: REASON });
  view.update({ type: 'engine.storage', state: 'resumed', reason: 'writes succeed again after 4 s; work resumes' });
  view.finish();
  assert.match(
    out.text(),
    /⚠ disk full: new work is paused until space is freed; running tasks go on \(ENOSPC: no space left on device, write \(journal in \/s\/journal\)\)\n {2}storage: writes succeed again after 4 s; work resumes\n/,
  );
});

test('the live progress block carries a disk-full row while paused and drops it after', () => {
  const out = stream(true);
  const view = new ProgressView(run, [], out);
  view.update({ type: 'engine.storage', state: 'paused', reason: REASON });
  view.finish();
  assert.match(out.text(), /⚠ disk full: new work is paused/);
  const resumed = stream(true);
  const again = new ProgressView(run, [], resumed);
  again.update({ type: 'engine.storage', state: 'paused', reason: REASON });
  again.update({ type: 'engine.storage', state: 'resumed', reason: 'back' });
  again.finish();
  assert.doesNotMatch(resumed.text(), /disk full/);
});

const agentTask = {
  id: 'r1.review',
  runId: 'r1',
  key: 'review',
  name: 'review',
  action: { kind: 'agent', agent: 'code-reviewer', prompt: 'x' },
  needs: [],
  state: 'running',
  priority: 0,
  order: 0,
  attempt: 1,
  retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
  continueOnError: false,
  updatedAt: Date.now(),
  startedAt: Date.now(),
} as const satisfies import('../../src/core/model/records.ts').TaskRecord;

test('live progress shows an agent task’s turns and tokens on its line, and a line per new figure on a plain stream', () => {
  const live = stream(true);
  const view = new ProgressView(run, [agentTask], live);
  view.spent(agentTask, 'turn 2 · 12.4k tokens');
  view.finish();
  assert.match(live.text(), /review\s+running\s+[\d.]+m?s turn 2 · 12\.4k tokens/);
  const plain = stream(false);
  const log = new ProgressView(run, [agentTask], plain);
  log.spent(agentTask, 'turn 1 · 900 tokens');
  log.spent(agentTask, 'turn 1 · 900 tokens');
  log.spent(agentTask, 'turn 2 · 1.8k tokens');
  assert.equal(plain.text().match(/turn \d/g)?.length, 2, 'one line per change');
});
