import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadWorkflowFile } from '../../src/core/workflow/parse-workflow.ts';

const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

test('examples/demo.yaml parses cleanly and has the shape the demo promises', async () => {
  const def = await loadWorkflowFile(DEMO);
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const roots = def.tasks.filter((t) => t.needs.length === 0).map((t) => t.id);
  assert.ok(roots.length >= 3, `several tasks run in parallel: ${roots.join(', ')}`);
  assert.ok(
    def.tasks.every((t) => t.action.kind === 'run'),
    'shell tasks only',
  );
  assert.equal(byId.get('flaky')!.retry.max, 2);
  assert.equal(byId.get('audit')!.continueOnError, true);
  assert.deepEqual(byId.get('publish')!.needs, ['package', 'broken']);
  assert.equal(def.options?.workspace, 'in-place');
});
