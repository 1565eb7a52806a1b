import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, oneLine } from '../../src/core/util/text-format.ts';

test('durations read naturally at every scale', () => {
  // One style everywhere: the tree, the CLI, logs, notifications and pull request bodies.
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(1_000), '1s', 'no trailing .0');
  assert.equal(formatDuration(4_249), '4.2s');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(2 * 3600_000 + 7 * 60_000), '2h 07m');
  assert.equal(formatDuration(-5), '0ms', 'clock skew never shows a negative duration');
});

test('oneLine folds whitespace and cuts long text', () => {
  assert.equal(oneLine('a\n  b\tc'), 'a b c');
  assert.equal(oneLine('x'.repeat(10), 5), 'xxxx…');
  assert.equal(oneLine('  short  '), 'short', 'ends are trimmed');
});
