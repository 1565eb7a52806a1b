import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepLink, parseDeepLink } from '../../src/core/model/deep-link.ts';

test('a run link and a task link round-trip through parse, in any editor scheme', () => {
  assert.equal(deepLink({ runId: '4f2c0a1b9e7d' }), 'vscode://orchestr8.orchestr8/run/4f2c0a1b9e7d');
  assert.equal(deepLink({ runId: '4f2c0a1b9e7d', taskId: '4f2c0a1b9e7d.build' }, 'code-oss'), 'code-oss://orchestr8.orchestr8/task/4f2c0a1b9e7d.build');
  assert.deepEqual(parseDeepLink('vscode://orchestr8.orchestr8/run/4f2c0a1b9e7d'), { runId: '4f2c0a1b9e7d' });
  assert.deepEqual(parseDeepLink('vscode-insiders://Orchestr8.Orchestr8/task/4f2c0a1b9e7d.build_2'), { runId: '4f2c0a1b9e7d', taskId: '4f2c0a1b9e7d.build_2' });
  assert.deepEqual(parseDeepLink('/run/abc'), { runId: 'abc' }, 'the path alone, as the URI handler gets it');
  assert.deepEqual(parseDeepLink('  vscode://orchestr8.orchestr8/run/abc?x=1 '), { runId: 'abc' });
});

test('links to other extensions, other paths and odd ids are refused', () => {
  for (const link of [
    'vscode://someone.else/run/abc',
    'vscode://orchestr8.orchestr8/runs/abc',
    'vscode://orchestr8.orchestr8/run/',
    'vscode://orchestr8.orchestr8/run/abc/extra',
    'vscode://orchestr8.orchestr8/task/abc',
    'vscode://orchestr8.orchestr8/run/..%2Fetc',
    'https://example.com/run/abc',
    'abc',
  ]) {
    assert.equal(parseDeepLink(link), undefined, link);
  }
});
