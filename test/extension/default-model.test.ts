import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_AGENT_MODEL } from '../../src/core/agents/agent-model.ts';
import { priceOf } from '../../src/core/agents/model-prices.ts';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

test('the default model is written once: the setting shows the same default, and it has a price', () => {
  const setting = pkg.contributes.configuration.properties['orchestr8.defaultModel'];
  assert.equal(setting.default, DEFAULT_AGENT_MODEL, 'package.json contributes a different orchestr8.defaultModel default');
  assert.ok(priceOf(DEFAULT_AGENT_MODEL), `no price for ${DEFAULT_AGENT_MODEL} in model-prices.ts: its cost would show as unknown`);
});
