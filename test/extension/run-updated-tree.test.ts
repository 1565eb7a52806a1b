import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InputRequest } from '../../src/core/model/input-request.ts';
import { NeedsInput, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';
import { RunTreeModel, type TreeChange } from '../../src/extension/presenters/run-tree-model.ts';
import { nextEvent, openEngine } from '../support/engine-harness.ts';

/** An agent stand-in that asks to run `npm test` until it is allowed, then asks about the run's budget until it is raised. */
class AskingRunner implements TaskRunner {
  readonly kind = 'agent';
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const asks: InputRequest[] = [
      { kind: 'permission', id: 'toolu_1', tool: 'Bash', call: 'Bash(npm test)', rule: 'Bash(npm test:*)', askedAt: Date.now() },
      { kind: 'budget', id: 'budget-1', scope: 'run', budget: { usd: 1 }, spent: { usd: 1.1, tokens: 900 }, askedAt: Date.now() },
    ];
    const open = asks.find((r) => !ctx.task.answers?.some((a) => a.requestId === r.id));
    if (open) throw new NeedsInput(open);
    return { output: 'done' };
  }
}

test('the run row learns the rules allowed for the run and its raised budget from run.updated, without reloading', async () => {
  const { engine } = await openEngine({ runners: [new AskingRunner()] });
  const model = new RunTreeModel(engine);
  await model.roots();
  const changes: TreeChange[] = [];
  const sub = engine.onEvent((e) => changes.push(model.apply(e)));
  try {
    let parked = nextEvent(engine, 'task.needs-input');
    const { runId, taskIds } = await engine.launch({
      workflow: {
        name: 'asks',
        inputs: [],
        options: { budget: { usd: 1 } },
        tasks: [
          {
            id: 'work',
            needs: [],
            action: { kind: 'agent', agent: 'scripted', prompt: 'go' },
            retry: { max: 0, backoffMs: 0, factor: 1, maxDelayMs: 0, jitter: false },
            continueOnError: false,
            priority: 0,
          },
        ],
      },
    });
    await parked;
    const runNode = model.nodeOf({ runId })!;
    const tooltip = async () => String((await model.item(runNode, Date.now()))!.tooltip);
    assert.doesNotMatch(await tooltip(), /Allowed for this run/);
    assert.match(await tooltip(), /Run budget: \$0\.00 \/ \$1 budget/);

    parked = nextEvent(engine, 'task.needs-input', (e) => e.task.request?.kind === 'budget');
    let updated = nextEvent(engine, 'run.updated');
    await engine.answer(taskIds[0]!, { decision: 'allow', always: true });
    await updated;
    assert.ok(
      changes.some((c) => c.nodes.has(runNode)),
      'the run row is refreshed',
    );
    assert.match(await tooltip(), /Allowed for this run: `Bash\(npm test:\*\)`/);

    await parked;
    updated = nextEvent(engine, 'run.updated', (e) => e.run.budget?.usd === 5);
    await engine.answer(taskIds[0]!, { decision: 'allow', raise: { usd: 4 } });
    await updated;
    assert.match(await tooltip(), /Run budget: \$0\.00 \/ \$5 budget/);
  } finally {
    sub.dispose();
  }
});
