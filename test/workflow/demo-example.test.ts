import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskDef } from '../../src/core/model/workflow.ts';
import { resolveInputs } from '../../src/core/workflow/inputs.ts';
import { interpolateAction } from '../../src/core/workflow/interpolate.ts';
import { loadWorkflowFile } from '../../src/core/workflow/parse-workflow.ts';
import { topologicalOrder } from '../../src/core/workflow/task-graph.ts';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

test('examples/demo.yaml parses cleanly and has the shape the demo promises', async () => {
  const def = await loadWorkflowFile(DEMO);
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const roots = def.tasks.filter((t) => t.needs.length === 0).map((t) => t.id);
  assert.ok(roots.length >= 3, `several tasks run in parallel: ${roots.join(', ')}`);
  assert.ok(def.tasks.every((t) => t.action.kind === 'run'), 'shell tasks only');
  assert.equal(byId.get('flaky')!.retry.max, 2);
  assert.equal(byId.get('audit')!.continueOnError, true);
  assert.deepEqual(byId.get('publish')!.needs, ['package', 'broken']);
  assert.equal(def.options?.workspace, 'in-place');
});

/**
 * Runs the demo's commands with `sh -c` in dependency order, the way a shell runner
 * would (retries, skip on failure, continue_on_error), without the engine: this
 * checks the commands themselves do what the comments in the file say.
 */
test('the demo commands behave as described when run in order with sh', async () => {
  const def = await loadWorkflowFile(DEMO);
  const dir = mkdtempSync(join(tmpdir(), 'o8-demo-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '9.8.7' }));
  try {
    const inputs = resolveInputs(def, {});
    const byId = new Map<string, TaskDef>(def.tasks.map((t) => [t.id, t]));
    const results = new Map<string, string>();
    const state = new Map<string, 'completed' | 'failed' | 'skipped'>();
    const attempts = new Map<string, number>();
    for (const id of topologicalOrder(def.tasks)) {
      const task = byId.get(id)!;
      const blocked = task.needs.some((n) => state.get(n) === 'skipped' || (state.get(n) === 'failed' && !byId.get(n)!.continueOnError));
      if (blocked) {
        state.set(id, 'skipped');
        continue;
      }
      const action = interpolateAction(task.action, { inputs, result: (k) => results.get(k) });
      assert.equal(action.kind, 'run');
      if (action.kind !== 'run') continue;
      for (let attempt = 1; attempt <= task.retry.max + 1; attempt++) {
        attempts.set(id, attempt);
        const started = Date.now();
        try {
          const out = execFileSync('sh', ['-c', action.run], { cwd: dir, env: { ...process.env, ...action.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          results.set(id, out.trim());
          state.set(id, 'completed');
          break;
        } catch {
          state.set(id, 'failed');
        } finally {
          assert.ok(Date.now() - started < 1000, `${id} took under a second`);
        }
      }
    }
    assert.deepEqual(Object.fromEntries(state), {
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
    assert.equal(attempts.get('flaky'), 2);
    assert.equal(results.get('report'), 'report: package of [build 9.8.7: hello from orchestr8]; flaky: passed on retry');
    assert.equal(existsSync(join(dir, '.o8-demo-flaky')), false, 'cleanup removed the marker');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
