import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';

test('no more tasks are marked running than the executor has slots, even while their starts are being written', async () => {
  const { engine, events } = await openEngine({ concurrency: 2 });
  const tasks = Array.from({ length: 12 }, (_, i) => `  t${i}: { run: "sleep 0.2" }`).join('\n');
  const { runId } = await engine.launch({ workflow: workflow(`name: wide\ntasks:\n${tasks}\n`) });
  await runFinished(engine, runId, 60_000);
  let running = 0;
  let most = 0;
  for (const event of events) {
    if (event.type === 'task.started') most = Math.max(most, ++running);
    else if (event.type === 'task.completed' || event.type === 'task.failed') running--;
  }
  assert.equal(events.filter((e) => e.type === 'task.completed').length, 12);
  assert.equal(most, 2, `at most 2 running at once (the window), saw ${most}`);
});
