import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { StateFolderAccess } from '../../src/servers/mcp/state-access.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';

test('while another process owns the state, the MCP access follows its journal: it hears every transition and reads the latest state without reopening', async () => {
  const { engine, stateDir, cwd } = await openEngine();
  await engine.launch({ task: { name: 'before', action: { kind: 'run', run: 'true' } }, cwd });
  const access = new StateFolderAccess({ stateDir, cwd, command: 'mcp-test' });
  const heard: EngineEvent[] = [];
  access.onEvent((e) => heard.push(e));
  try {
    // The first read opens the view; from then on it follows.
    await access.use((api) => api.list());
    const { runId, taskIds } = await engine.launch({ task: { name: 'followed', action: { kind: 'run', run: 'echo followed' } }, cwd });
    // Read-your-writes: a launch acknowledged elsewhere is seen by the very next read.
    assert.equal((await access.use((api) => api.status(runId))).run.id, runId);
    await runFinished(engine, runId);
    const deadline = Date.now() + 5000;
    while (!heard.some((e) => e.type === 'workflow.completed' && e.run.id === runId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const types = heard.filter((e) => ('run' in e && e.run.id === runId) || ('task' in e && e.task.id === taskIds[0])).map((e) => e.type);
    assert.deepEqual(types, ['workflow.launched', 'task.queued', 'task.started', 'task.completed', 'workflow.completed']);
    const completed = heard.find((e) => e.type === 'task.completed' && e.task.id === taskIds[0]);
    assert.ok(completed?.type === 'task.completed' && /followed/.test(completed.result.output));
    assert.equal((await access.use((api) => api.result(taskIds[0]!)))?.output.trim(), 'followed');
    assert.equal(access.mode, 'read-only');
  } finally {
    await access.close();
  }
});
