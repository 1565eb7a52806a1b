import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLOCK = fileURLToPath(new URL('../../src/core/util/clock.ts', import.meta.url));

/** Runs a process that sets one timer of `ms` on the clock and prints when it fires. */
function processWithTimer(clock: string, ms: number): { stdout: string; status: number | null } {
  const script = `import { realClock, systemClock } from ${JSON.stringify(CLOCK)};
const clock = ${clock};
clock.setTimeout(() => console.log('fired'), ${ms});`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
}

test('systemClock timers keep the process alive until they fire', () => {
  const r = processWithTimer('systemClock', 50);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), 'fired');
});

test('a clock without keepAlive lets a finished process exit under its timers', () => {
  // With a referenced 10 min timer the process would run into spawnSync's 60 s timeout (status null).
  const r = processWithTimer('realClock({ keepAlive: false })', 600_000);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '');
});

test('a cancelled timer never fires', () => {
  const r = processWithTimer('{ ...systemClock, setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms).cancel() }', 50);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '');
});
