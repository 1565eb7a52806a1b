import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { TaskWorker } from '../../src/core/queue/task-worker.ts';
import type { TaskContext, TaskOutput, TaskRunner } from '../../src/core/runners/task-runner.ts';
import { RedisServer, redisMissingReason } from '../support/redis-server.ts';
import { runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const skip = redisMissingReason();

/** Returns at once, leaving its last usage record un-awaited, as the agent runner does with its final turn's. */
class HandsOverRunner implements TaskRunner {
  readonly kind = 'noop';
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    void ctx.recordUsage({ turn: 1, model: 'claude-test', inputTokens: 7, outputTokens: 3, cacheWriteTokens: 0, cacheReadTokens: 0, costUsd: 0.01 });
    return { output: 'done' };
  }
}

test("a worker stores a runner's un-awaited last records before it completes the job: the usage reaches the coordinator's state", {
  skip,
  timeout: 60_000,
}, async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const cwd = tempDir('o8-saves-');
  const worker = new TaskWorker({
    redisUrl: redis.url,
    runners: [new HandsOverRunner()],
    workspace: { prepare: async () => ({ cwd, finish: async () => {} }) },
  });
  await worker.start();
  t.after(() => worker.stop(true));
  const engine = await Engine.open({ stateDir: tempDir('o8-saves-state-'), cwd, executor: new BullmqExecutor({ redisUrl: redis.url }) });
  t.after(() => engine.close());

  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'noop' } } });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  const usage = await engine.usage(taskIds[0]!);
  assert.equal(usage.inputTokens, 7, `the usage the runner handed over is in the state: ${JSON.stringify(usage)}`);
});
