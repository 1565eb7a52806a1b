import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workflowCompletions } from '../../src/servers/lsp/workflow-completion.ts';

const labels = (text: string, line: number, character: number) => workflowCompletions(text, 'w.yaml', { line, character }, []).map((i) => i.label);

describe('workflow completions (in process)', () => {
  const text = 'name: w\ntasks:\n  a:\n    run: echo a\n  b:\n    run: echo b\n  c:\n    run: echo c\n    needs:\n      - a\n      - \n    retries:\n      \n';

  it('offers the task ids not yet listed in a block needs list', () => {
    assert.deepEqual(labels(text, 10, 8), ['b']);
  });

  it('offers the keys of a nested map (retries) by indentation', () => {
    assert.deepEqual(labels(text, 12, 6), ['max', 'backoff', 'max_delay', 'factor', 'jitter']);
  });

  it('offers nothing inside a value that takes free text, or after the $${ escape', () => {
    assert.deepEqual(labels('name: w\ntasks:\n  a:\n    run: echo $${\n', 3, 16), []);
    assert.deepEqual(labels('name: w\ntasks:\n  a:\n    run: ech\n', 3, 12), []);
  });

  it('offers input object keys under an input, and no keys where an input name goes', () => {
    const inputs = 'name: w\ninputs:\n  target:\n    default: src\n    \n  \ntasks: {}\n';
    assert.deepEqual(labels(inputs, 4, 4), ['description', 'required']);
    assert.deepEqual(labels(inputs, 5, 2), []);
  });
});
