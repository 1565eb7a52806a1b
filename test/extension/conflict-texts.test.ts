import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MergeConflict, TaskRecord } from '../../src/core/model/records.ts';
import { fileList, resolvePrompt } from '../../src/extension/presenters/conflict-texts.ts';

test('fileList names up to five files, then how many more', () => {
  assert.equal(fileList(['a']), 'a');
  assert.equal(fileList(['a', 'b']), 'a and b');
  assert.equal(fileList(['a', 'b', 'c']), 'a, b and c');
  assert.equal(fileList(['1', '2', '3', '4', '5', '6', '7']), '1, 2, 3, 4, 5 and 2 more');
});

test('the Resolve Merge Conflict… prompt: what conflicts, what is still marked after a Retry Task, and when all is resolved', () => {
  const task = { key: 'backend', name: '' } as TaskRecord;
  const conflict = { runBranch: 'orchestr8/x' } as MergeConflict;
  assert.equal(
    resolvePrompt(task, conflict, ['a.ts', 'b.ts']),
    'Orchestr8: backend conflicts with orchestr8/x in a.ts and b.ts. Resolve them in the merge editor (or edit out the markers) and save, then Retry Task merges the result.',
  );
  assert.equal(resolvePrompt(task, conflict, ['b.ts'], true), 'Orchestr8: b.ts still has conflict markers. Resolve and save it, then Retry Task.');
  assert.match(resolvePrompt(task, conflict, []), /^Orchestr8: the conflicts of backend with orchestr8\/x are resolved in its worktree\./);
});
