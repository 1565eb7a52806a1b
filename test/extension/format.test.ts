import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFence, escapeMarkdown, formatTokens, formatWhen, shortRunId } from '../../src/extension/presenters/format.ts';

test('token counts and run ids are short', () => {
  assert.equal(formatTokens(950), '950');
  assert.equal(formatTokens(12_345), '12k');
  assert.equal(formatTokens(1_234), '1.2k');
  assert.equal(formatTokens(4_100_000), '4.1M');
  assert.equal(shortRunId('4f2c1a2b3c4d'), '4f2c…');
});

test('a code fence is longer than any backtick run inside it', () => {
  const text = 'before ```` inside';
  const fenced = codeFence(text, 'text');
  assert.ok(fenced.startsWith('`````text\n'));
  assert.ok(fenced.endsWith('\n`````'));
  assert.equal(codeFence('plain'), '```\nplain\n```');
});

test('escapeMarkdown neutralises links and emphasis in names', () => {
  assert.equal(escapeMarkdown('[click](command:x) *bold*'), '\\[click\\]\\(command:x\\) \\*bold\\*');
});

test('start times drop the date when it is today', () => {
  const now = new Date(2026, 10, 25, 15, 0).getTime();
  assert.equal(formatWhen(new Date(2026, 10, 25, 9, 31, 12).getTime(), now), '09:31');
  assert.equal(formatWhen(new Date(2026, 10, 24, 9, 31).getTime(), now), '2026-11-24 09:31');
});
