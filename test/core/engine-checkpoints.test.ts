import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskError, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';

/**
 * Saves a counter as its checkpoint on every attempt and fails the first attempt of `flaky` and `last`:
 * what each attempt loaded shows whether the checkpoint reached it.
 */
class CountingRunner implements TaskRunner {
  readonly kind = 'run';
  readonly loaded: { key: string; attempt: number; state: unknown }[] = [];

  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const state = (await ctx.loadCheckpoint()) as { n: number } | undefined;
    this.loaded.push({ key: ctx.task.key, attempt: ctx.task.attempt, state });
    if (ctx.task.key === 'quiet') return { output: 'never saved' };
    await ctx.saveCheckpoint({ n: (state?.n ?? 0) + 1 });
    if (ctx.task.key === 'flaky' && ctx.task.attempt === 1) throw new TaskError('first attempt fails, retried', true);
    if (ctx.task.key === 'last' && ctx.task.attempt === 1) throw new TaskError('first attempt fails the run', false);
    return { output: `n=${(state?.n ?? 0) + 1}` };
  }
}

// A launched run's tasks start knowing they have no checkpoint (no store lookup): the one saved
// by an attempt must still reach the next attempt, the run's retry and its other tasks' own.
test('a checkpoint saved by an attempt reaches the next attempt and a retry of the run; a task that saved none loads none', async () => {
  const runner = new CountingRunner();
  const { engine } = await openEngine({ runners: [runner] });
  const wf = workflow(`
name: checkpoints
tasks:
  flaky: { run: "x", retries: { max: 1, backoff: 10ms } }
  quiet: { run: "x", needs: [flaky] }
  last: { run: "x", needs: [quiet] }
`);
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  assert.deepEqual(
    runner.loaded.map((l) => [l.key, l.attempt, l.state]),
    [
      ['flaky', 1, undefined],
      ['flaky', 2, { n: 1 }],
      ['quiet', 1, undefined],
      ['last', 1, undefined],
    ],
  );

  // The finished run is rebuilt from the store for a retry: the lookup goes to the store and finds `last`'s save.
  await engine.retry(`${runId}.last`);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.deepEqual(runner.loaded.at(-1), { key: 'last', attempt: 2, state: { n: 1 } });
});
