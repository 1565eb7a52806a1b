import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffRow, patchRow } from '../../src/core/store/row-patch.ts';

interface Row {
  id: string;
  state: string;
  attempt: number;
  pid?: number;
  error?: string;
  needs: string[];
}

const before: Row = { id: 'r.a', state: 'running', attempt: 1, pid: 42, needs: ['x'] };

test('a difference holds the changed fields and names the removed ones; patching the old row with it gives the new one', () => {
  const after: Row = { id: 'r.a', state: 'failed', attempt: 1, pid: undefined, error: 'boom', needs: before.needs };
  const patch = diffRow(before, after)!;
  assert.deepEqual(patch, { id: 'r.a', set: { state: 'failed', error: 'boom' }, unset: ['pid'] });
  assert.deepEqual(patchRow(before, patch), { id: 'r.a', state: 'failed', attempt: 1, error: 'boom', needs: ['x'] });
  assert.equal(before.pid, 42, 'rows are never mutated');
});

test('a field left out of the new row counts as removed; an unchanged row has no difference', () => {
  const { pid: _pid, ...withoutPid } = before;
  assert.deepEqual(diffRow(before, withoutPid), { id: 'r.a', set: {}, unset: ['pid'] });
  assert.equal(diffRow(before, { ...before }), undefined);
  assert.deepEqual(diffRow(before, { ...before, needs: ['x', 'y'] }), { id: 'r.a', set: { needs: ['x', 'y'] } }, 'a changed nested value is set whole');
});

test('an equal nested value in a new object (a row read back from storage) is no change', () => {
  const readBack: Row = JSON.parse(JSON.stringify(before));
  assert.equal(diffRow(before, readBack), undefined);
  assert.deepEqual(diffRow(before, { ...readBack, state: 'completed' }), { id: 'r.a', set: { state: 'completed' } });
});
