import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/core/workflow/duration.ts';

test('durations in units or seconds become milliseconds', () => {
  const cases: [string | number, number][] = [
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['1s500ms', 1500],
    ['1.5s', 1500],
    [' 1h 5m ', 3_900_000],
    ['45', 45_000],
    [2, 2000],
    [0.25, 250],
    [0, 0],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
});

test('anything else is a clear error', () => {
  for (const bad of ['', '5 minutes', '1d', 'm', '30m1h', '1h1h', '-5s', 'ms']) {
    assert.throws(() => parseDuration(bad), {
      message: `invalid duration ${JSON.stringify(bad)}: use a number of seconds or a duration like 250ms, 30s, 5m, 1h, 1h30m`,
    });
  }
  assert.throws(() => parseDuration(-1), /invalid duration -1/);
  assert.throws(() => parseDuration(Number.NaN), /invalid duration NaN/);
});
