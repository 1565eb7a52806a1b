import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { EventOf } from '../../src/core/model/events.ts';
import type { InputRequest } from '../../src/core/model/input-request.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { NeedsInput, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';
import { nextEvent, openEngine, runFinished } from '../support/engine-harness.ts';

/** An agent stand-in: the prompt `budget` asks about the run's budget, any other a permission; done once answered. */
class AskingRunner implements TaskRunner {
  readonly kind = 'agent';
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const prompt = ctx.task.action.kind === 'agent' ? ctx.task.action.prompt : '';
    const request: InputRequest =
      prompt === 'budget'
        ? { kind: 'budget', id: 'budget-1', scope: 'run', budget: { usd: 1 }, spent: { usd: 1.1, tokens: 900 }, askedAt: Date.now() }
        : { kind: 'permission', id: 'toolu_1', tool: 'Bash', call: 'Bash(npm test -- --watch)', rule: 'Bash(npm test:*)', askedAt: Date.now() };
    if (!ctx.task.answers?.some((a) => a.requestId === request.id)) throw new NeedsInput(request);
    return { output: 'done' };
  }
}

const agent = (prompt: string) => ({ task: { action: { kind: 'agent' as const, agent: 'scripted', prompt } } });

test('run.updated: "allow for this run" and a raised run budget announce the run’s new record, after it is durable, to the owner’s listeners and to a reader following the journal', async () => {
  const { engine, stateDir } = await openEngine({ runners: [new AskingRunner()] });
  const follower = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: 50 });
  const followed: EventOf<'run.updated'>[] = [];
  let heardBoth!: () => void;
  const followedBoth = new Promise<void>((resolve, reject) => {
    heardBoth = resolve;
    setTimeout(() => reject(new Error(`the follower heard ${followed.length} run.updated events, not 2, within 20 s`)), 20_000).unref();
  });
  follower.onEvent((e) => {
    if (e.type === 'run.updated' && followed.push(e) === 2) heardBoth();
  });
  // What another process reading the state folder sees at the moment each event is heard.
  const onDisk: Promise<RunRecord>[] = [];
  engine.onEvent((e) => {
    if (e.type !== 'run.updated') return;
    onDisk.push(
      ReadOnlyEngine.open(stateDir).then(async (reader) => {
        try {
          return (await reader.status(e.run.id)).run;
        } finally {
          await reader.close();
        }
      }),
    );
  });
  try {
    let parked = nextEvent(engine, 'task.needs-input');
    const allowed = await engine.launch(agent('permission'));
    await parked;
    let updated = nextEvent(engine, 'run.updated', (e) => e.run.id === allowed.runId);
    await engine.answer(allowed.taskIds[0]!, { decision: 'allow', always: true });
    const always = await updated;
    assert.deepEqual(always.run.allowed, ['Bash(npm test:*)']);
    assert.equal(typeof always.seq, 'number', 'a durable event, with its journal seq');
    assert.deepEqual((await onDisk[0]!).allowed, ['Bash(npm test:*)'], 'on disk when announced');
    await runFinished(engine, allowed.runId);

    parked = nextEvent(engine, 'task.needs-input');
    const budgeted = await engine.launch(agent('budget'));
    await parked;
    updated = nextEvent(engine, 'run.updated', (e) => e.run.id === budgeted.runId);
    await engine.answer(budgeted.taskIds[0]!, { decision: 'allow', raise: { usd: 4 } });
    assert.deepEqual((await updated).run.budget, { usd: 5 });
    assert.deepEqual((await onDisk[1]!).budget, { usd: 5 });
    await runFinished(engine, budgeted.runId);

    // Allowing once changes no run record: no run.updated for it.
    parked = nextEvent(engine, 'task.needs-input');
    const once = await engine.launch(agent('permission'));
    await parked;
    await engine.answer(once.taskIds[0]!, { decision: 'allow' });
    await runFinished(engine, once.runId);
    assert.equal(onDisk.length, 2);

    // The reader following the journal heard both, rebuilt from the rows (the tree in another window).
    await followedBoth;
    assert.deepEqual(
      followed.map((e) => [e.run.id, e.run.allowed, e.run.budget]),
      [
        [allowed.runId, ['Bash(npm test:*)'], undefined],
        [budgeted.runId, undefined, { usd: 5 }],
      ],
    );
  } finally {
    await follower.close();
  }
});
