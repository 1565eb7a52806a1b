import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { silentLogger } from '../../src/core/util/logger.ts';
import { inboxDir, postToInbox, takeInbox } from '../../src/cli/launch-inbox.ts';

test('the inbox: each request launched once with its own id, one whose run exists only removed', { timeout: 60_000 }, async () => {
  const stateDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'o8-inbox-')), 'state');
  await postToInbox(stateDir, { id: 'aaaaaaaaaaaa', task: { action: { kind: 'noop' } } });
  await postToInbox(stateDir, { id: 'bbbbbbbbbbbb', task: { action: { kind: 'noop' } } });
  assert.equal(fs.statSync(inboxDir(stateDir)).mode & 0o777, 0o700);
  const engine = await Engine.open({ stateDir, cwd: path.dirname(stateDir) });
  try {
    // bbbb… was launched already (an owner died after launching it, before removing its file).
    await engine.launch({ id: 'bbbbbbbbbbbb', task: { action: { kind: 'noop' } } });
    assert.equal(await takeInbox(stateDir, engine, silentLogger), 1);
    assert.deepEqual(fs.readdirSync(inboxDir(stateDir)), []);
    const runs = (await engine.list()).runs.map((r) => r.id).sort();
    assert.deepEqual(runs, ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    // Taking in again launches nothing twice.
    assert.equal(await takeInbox(stateDir, engine, silentLogger), 0);
    assert.equal((await engine.list()).total, 2);
  } finally {
    await engine.close();
  }
});
