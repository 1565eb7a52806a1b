import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAUNCH_FIELD_NAMES, LaunchInputError, launchFromInput, singleTaskFromInput, type LaunchFieldNames } from '../../src/core/engine/launch-input.ts';

const FLAGS: LaunchFieldNames = {
  ...LAUNCH_FIELD_NAMES,
  agent: '--agent NAME',
  prompt: '--prompt TEXT',
  run: '--run COMMAND',
  retries: '--retries',
  timeout: '--timeout',
  budget: '--budget-usd, --budget-tokens',
};

test('an agent task and a shell command, with what goes with them', () => {
  assert.deepEqual(
    singleTaskFromInput({ agent: 'coder', prompt: 'Fix it', model: 'claude-haiku-5-5', name: 'fix', timeout: '5m', retries: '2', budget: { usd: 1 } }),
    {
      action: { kind: 'agent', agent: 'coder', prompt: 'Fix it', model: 'claude-haiku-5-5' },
      name: 'fix',
      timeoutMs: 300_000,
      retries: 2,
      budget: { usd: 1 },
    },
  );
  assert.deepEqual(singleTaskFromInput({ run: 'npm test', env: { CI: '1' }, timeoutMs: 1500 }), {
    action: { kind: 'run', run: 'npm test', env: { CI: '1' } },
    timeoutMs: 1500,
  });
  assert.deepEqual(launchFromInput({ workflow: 'release', inputs: { v: '1.2' } }), { workflow: 'release', inputs: { v: '1.2' } });
});

test('one set of messages, naming the fields as each front end spells them', () => {
  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof LaunchInputError, String(error));
      return error.message;
    }
    assert.fail('accepted');
  };
  assert.equal(
    refused(() => launchFromInput({ agent: 'a', run: 'ls' })),
    'give exactly one of: agent (with prompt), run (a shell command), or workflow (with inputs)',
  );
  assert.equal(
    refused(() => singleTaskFromInput({}, FLAGS)),
    'give exactly one of: --agent NAME (with --prompt TEXT) or --run COMMAND (a shell command)',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ agent: 'coder' }, FLAGS)),
    'agent coder needs a prompt (--prompt TEXT)',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ agent: 'coder', prompt: '  ' })),
    'agent coder needs a prompt (prompt)',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ run: 'ls', budget: { tokens: 5 } }, FLAGS)),
    'a budget (--budget-usd, --budget-tokens) applies to an agent task only, not to a shell command',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ agent: 'a', prompt: 'p', budget: {} })),
    'a budget gives usd, tokens or both',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ run: 'ls', prompt: 'p' })),
    'prompt only applies to an agent task',
  );
  assert.equal(
    refused(() => singleTaskFromInput({ agent: 'a', prompt: 'p', env: {} })),
    'env only applies to a shell command',
  );
  assert.equal(
    refused(() => launchFromInput({ run: 'ls', inputs: {} })),
    'inputs only apply to a workflow',
  );
  assert.match(
    refused(() => launchFromInput({ workflow: 'w', retries: 1 })),
    /^retries applies to a single task, not to a workflow/,
  );
  assert.equal(
    refused(() => singleTaskFromInput({ run: 'ls', retries: 'two' }, FLAGS)),
    '--retries takes a whole number of extra attempts (0 or more), not "two"',
  );
  assert.match(
    refused(() => singleTaskFromInput({ run: 'ls', timeout: 'soon' }, FLAGS)),
    /^--timeout: invalid duration "soon"/,
  );
});
