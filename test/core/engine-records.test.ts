import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { scanFrames } from '../../src/core/store/journal-format.ts';
import { listSegments } from '../../src/core/store/journal.ts';
import { journalDir, StateStore } from '../../src/core/store/state-store.ts';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';

test('the engine journals a task row whole once, at launch, and each transition after as a patch; the tables agree with what it answered', async () => {
  const { engine, stateDir } = await openEngine();
  const { runId } = await engine.launch({
    workflow: workflow(`
name: records
tasks:
  a: { run: "echo a" }
  flaky: { run: "exit 3", retries: { max: 1, backoff: 10 } }
  b: { run: "echo b", needs: a }
  never: { run: "echo never", needs: flaky }
`),
  });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const answered = await engine.status(runId);
  await engine.close();

  const records = listSegments(journalDir(stateDir)).flatMap((s) => scanFrames(fs.readFileSync(s.path), s.firstSeq).entries.map((e) => e.record));
  const whole = records.flatMap((r) => (r.t === 'task' ? [r.task.key] : []));
  const patches = records.filter((r) => r.t === 'task-patch');
  assert.deepEqual(whole.sort(), ['a', 'b', 'flaky', 'never'], 'each task row whole exactly once');
  // a, b: queued→running→completed (b from pending), flaky twice through, never skipped.
  assert.ok(patches.length >= 8, `${patches.length} task patches`);
  for (const patch of patches) assert.equal('action' in patch.set || 'needs' in patch.set || 'retry' in patch.set, false, 'a patch carries only what changed');
  assert.ok(
    records.some((r) => r.t === 'run-patch'),
    'the run finishes by a patch',
  );

  const reader = await StateStore.openReader(stateDir);
  assert.deepEqual(await reader.index.getTasks(runId), answered.tasks);
  assert.deepEqual((await reader.index.getRun(runId))?.state, answered.run.state);
  await reader.close();
});
