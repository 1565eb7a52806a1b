import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/core/engine/engine.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { loadWorkflowFile } from '../../src/core/workflow/parse-workflow.ts';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

test('examples/demo.yaml on the real engine: parallel roots, result chain, one retry, a skipped branch, cleanup', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'o8-demo-engine-'));
  const cwd = join(dir, 'project');
  const stateDir = join(dir, 'state');
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'package.json'), JSON.stringify({ version: '4.5.6' }));
  const engine = await Engine.open({ stateDir, cwd, concurrency: 4 });
  try {
    const workflow = await loadWorkflowFile(DEMO);
    const finished = new Promise<RunRecord>((resolve) => {
      engine.onEvent((e) => {
        if (e.type === 'workflow.completed' || e.type === 'workflow.failed' || e.type === 'workflow.cancelled') resolve(e.run);
      });
    });
    const started = Date.now();
    const { runId } = await engine.launch({ workflow, cwd });
    const run = await finished;
    const elapsed = Date.now() - started;
    assert.equal(run.state, 'failed', 'broken fails on purpose');
    const { tasks } = await engine.status(runId);
    assert.deepEqual(Object.fromEntries(tasks.map((t) => [t.key, t.state])), {
      lint: 'completed',
      'unit-tests': 'completed',
      version: 'completed',
      audit: 'failed',
      build: 'completed',
      package: 'completed',
      flaky: 'completed',
      broken: 'failed',
      publish: 'skipped',
      report: 'completed',
      cleanup: 'completed',
    });
    assert.equal(tasks.find((t) => t.key === 'flaky')!.attempt, 2);
    assert.equal((await engine.result(`${runId}.report`))?.output, 'report: package of [build 4.5.6: hello from orchestr8]; flaky: passed on retry');
    assert.equal(existsSync(join(cwd, '.o8-demo-flaky')), false, 'cleanup removed the marker');
    assert.ok(elapsed < 10_000, `the demo took ${elapsed} ms`);
    console.log(`demo run on the engine: ${elapsed} ms`);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
