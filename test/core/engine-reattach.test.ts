import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { TaskRecord } from '../../src/core/model/records.ts';
import type { TaskExecutor } from '../../src/core/runners/task-executor.ts';
import type { TaskContext, TaskOutput } from '../../src/core/runners/task-runner.ts';
import { TaskError, abortReason } from '../../src/core/runners/task-runner.ts';
import { runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

/**
 * A remote queue in miniature: tasks live here, not in the engine, so they outlive
 * it; an engine that goes away just stops listening, and one that comes back can
 * wait for the same attempt again.
 */
class RemoteQueue {
  readonly executions: { id: string; attempt: number; startedAt?: number }[] = [];
  private readonly jobs = new Map<string, { done: Promise<TaskOutput>; finish(output: string): void }>();

  executor(): TaskExecutor {
    return {
      outlivesEngine: true,
      freeSlots: () => 10,
      close: async () => {},
      execute: (ctx: TaskContext) => {
        const key = `${ctx.task.id}@${ctx.task.attempt}-${ctx.task.startedAt}`;
        let job = this.jobs.get(key);
        if (!job) {
          this.executions.push({ id: ctx.task.id, attempt: ctx.task.attempt, startedAt: ctx.task.startedAt });
          let finish!: (output: string) => void;
          const done = new Promise<TaskOutput>((resolve) => (finish = (output) => resolve({ output })));
          job = { done, finish };
          this.jobs.set(key, job);
        }
        return new Promise<TaskOutput>((resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new TaskError(abortReason(ctx.signal) ?? 'cancelled')), { once: true });
          job.done.then((output) => {
            ctx.log('remote output\n');
            resolve(output);
          });
        });
      },
    };
  }

  finishAll(output: string): void {
    for (const job of this.jobs.values()) job.finish(output);
  }

  get size(): number {
    return this.jobs.size;
  }
}

test('an executor whose tasks outlive the engine: close leaves the task running, the next engine re-attaches to the same attempt', async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const remote = new RemoteQueue();
  const first = await Engine.open({ stateDir, cwd, executor: remote.executor() });
  const { runId } = await first.launch({ workflow: workflow('name: w\ntasks:\n  a:\n    run: "true"\n  b:\n    needs: [a]\n    run: "true"\n') });
  await until('a to be handed to the remote queue', () => remote.size > 0, 10_000);
  await first.close();

  const second = await Engine.open({ stateDir, cwd, executor: remote.executor() });
  try {
    const a = (await second.status(runId)).tasks[0]!;
    assert.equal(a.state, 'running', 'not interrupted: it still runs elsewhere');
    assert.equal(a.attempt, 1);
    remote.finishAll('done remotely');
    await until('b to be handed to the remote queue', () => remote.size >= 2, 10_000);
    remote.finishAll('done remotely');
    const run = await runFinished(second, runId);
    assert.equal(run.state, 'completed');
    const tasks: TaskRecord[] = (await second.status(runId)).tasks;
    assert.deepEqual(
      tasks.map((t) => [t.key, t.state, t.attempt]),
      [
        ['a', 'completed', 1],
        ['b', 'completed', 1],
      ],
    );
    assert.equal((await second.result(`${runId}.a`))?.output, 'done remotely');
    // a was started once (re-attached, not re-run); b once.
    assert.deepEqual(
      remote.executions.map((e) => [e.id, e.attempt]),
      [
        [`${runId}.a`, 1],
        [`${runId}.b`, 1],
      ],
    );
    assert.match(await second.log(`${runId}.a`), /attempt 1 · re-attached after a restart .*\nremote output\n/);
  } finally {
    await second.close();
  }
});
