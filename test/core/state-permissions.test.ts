import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const mode = (p: string) => statSync(p).mode & 0o777;

test('the state, journal and log folders are private to the user (0700), a folder made 0755 before included', async () => {
  const stateDir = join(tempDir('o8-perm-'), '.orchestr8', 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const { engine } = await openEngine({ stateDir });
  const { runId } = await engine.launch({ workflow: workflow('name: w\ntasks:\n  hi: { run: echo secret output }\n') });
  await runFinished(engine, runId);
  assert.equal(mode(stateDir), 0o700);
  assert.equal(mode(join(stateDir, 'journal')), 0o700);
  assert.equal(mode(join(stateDir, 'logs', runId)), 0o700);
  assert.equal(mode(join(stateDir, 'logs')), 0o700);
});
