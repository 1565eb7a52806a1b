import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';

test('an ambiguous id prefix names every run it could mean', async () => {
  const { engine } = await openEngine();
  const ids = ['abc0000001', 'abc0000002', 'abc0000003'];
  for (const id of ids) await runFinished(engine, (await engine.launch({ id, workflow: workflow('name: w\ntasks:\n  a: { run: "true" }\n') })).runId);
  await assert.rejects(engine.status('abc000'), (error: Error) => {
    assert.equal(error.name, 'NotFoundError');
    for (const id of ids) assert.ok(error.message.includes(id), `${id} in: ${error.message}`);
    assert.match(error.message, /ambiguous/);
    return true;
  });
  assert.equal((await engine.status('abc0000002')).run.id, 'abc0000002');
});
