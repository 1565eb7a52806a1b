import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionLabel } from '../../src/core/model/action-label.ts';

test('actionLabel says what kind of task it is, in the same words wherever it is shown', () => {
  assert.equal(actionLabel({ kind: 'agent', agent: 'coder', prompt: 'a long prompt that stays out of the label' }), 'agent coder');
  assert.equal(actionLabel({ kind: 'run', run: 'npm test' }), 'shell command');
  assert.equal(actionLabel({ kind: 'wait', message: 'ok?' }), 'wait');
  assert.equal(actionLabel({ kind: 'noop' }), 'no-op');
});
