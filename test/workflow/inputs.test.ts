import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveInputs } from '../../src/core/workflow/inputs.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { WorkflowError } from '../../src/core/workflow/workflow-error.ts';

const def = parseWorkflow(
  [
    'name: x',
    'inputs:',
    '  target: { description: Folder, default: src }',
    '  ticket: { required: true, description: Issue id }',
    '  note:',
    '  level: 3',
    'tasks:',
    '  a: { run: echo }',
  ].join('\n'),
  'in.yaml',
);

test('defaults apply, provided values win, optional inputs without default are empty', () => {
  assert.deepEqual(resolveInputs(def, { ticket: 'T-1' }), { target: 'src', ticket: 'T-1', note: '', level: '3' });
  assert.deepEqual(resolveInputs(def, { ticket: 'T-1', target: 'lib', note: 'n' }), { target: 'lib', ticket: 'T-1', note: 'n', level: '3' });
});

test('a missing required input names its declaration; unknown inputs list the declared ones', () => {
  assert.throws(
    () => resolveInputs(def, { targte: 'lib' }),
    (e: unknown) => {
      assert.ok(e instanceof WorkflowError);
      assert.equal(
        e.message,
        [
          "in.yaml: unknown input 'targte'; did you mean 'target'? (declared inputs: target, ticket, note, level)",
          "in.yaml:4:3: missing required input 'ticket' (Issue id): give it a value",
        ].join('\n'),
      );
      assert.deepEqual(e.issues[1], {
        message: "missing required input 'ticket' (Issue id): give it a value",
        file: 'in.yaml',
        line: 4,
        col: 3,
        endLine: 4,
        endCol: 9,
      });
      return true;
    },
  );
});
