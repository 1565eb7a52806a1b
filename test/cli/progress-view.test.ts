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
  assert.match(out.text(), /⚠ disk full: new work is paused until space is freed; running tasks go on \(ENOSPC: no space left on device, write \(journal in \/s\/journal\)\)\n {2}storage: writes succeed again after 4 s; work resumes\n/);
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
