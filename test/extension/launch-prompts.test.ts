import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputPrompts, validateInput, workflowPick } from '../../src/extension/presenters/launch-prompts.ts';
import { workflow } from './real-engine.ts';

const def = workflow(
  [
    'name: add-feature',
    'description: Plan, code, test',
    'inputs:',
    '  feature: { description: What to build, required: true }',
    '  branch: { default: main }',
    'tasks:',
    '  plan:',
    '    run: echo ${inputs.feature}',
  ].join('\n'),
);

test('one input box per declared input, with its description, default and position', () => {
  assert.deepEqual(inputPrompts(def), [
    { name: 'feature', title: 'add-feature: feature (1/2)', prompt: 'What to build', value: '', required: true },
    { name: 'branch', title: 'add-feature: branch (2/2)', prompt: 'Value for branch', value: 'main', required: false },
  ]);
});

test('a required input refuses an empty answer; optional ones accept it', () => {
  const [feature, branch] = inputPrompts(def);
  assert.equal(validateInput(feature!, '  '), 'feature is required');
  assert.equal(validateInput(feature!, 'dark mode'), undefined);
  assert.equal(validateInput(branch!, ''), undefined);
});

test('the quick pick row shows name, path and what the workflow needs; a broken file shows why', () => {
  assert.deepEqual(workflowPick('.orchestr8/workflows/add.yaml', { workflow: def }), {
    label: 'add-feature',
    description: '.orchestr8/workflows/add.yaml',
    detail: 'Plan, code, test · 1 task · inputs: feature, branch',
  });
  const broken = workflowPick('.orchestr8/workflows/bad.yaml', { error: 'bad.yaml:3:5: unknown key' });
  assert.equal(broken.label, '$(error) .orchestr8/workflows/bad.yaml');
  assert.equal(broken.detail, 'bad.yaml:3:5: unknown key');
});
