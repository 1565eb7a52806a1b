import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { InputRequest } from '../../src/core/model/input-request.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { TaskWorker } from '../../src/core/queue/task-worker.ts';
import { NeedsInput, PauseRun, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';
import { RedisServer, redisMissingReason } from '../support/redis-server.ts';
import { runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const skip = redisMissingReason();

const permission: InputRequest = { kind: 'permission', id: 'toolu_1', tool: 'Bash', call: 'Bash(rm -rf build)', rule: 'Bash(rm:*)', askedAt: 1 };

/** An agent stand-in on the worker: asks until the answer (carried in the job's task record) is there. */
class AskingRunner implements TaskRunner {
  readonly kind = 'agent';
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const answer = ctx.task.answers?.find((a) => a.requestId === permission.id);
    if (!answer) throw new NeedsInput(permission);
    return { output: `ran after ${answer.decision}` };
  }
}

/** The API stays overloaded: the run must wait, not fail. */
class OverloadedRunner implements TaskRunner {
  readonly kind = 'noop';
  async execute(): Promise<TaskOutput> {
    throw new PauseRun('Anthropic API overloaded (529 after 2 retries)', 3_600_000);
  }
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  for (const end = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms: ${JSON.stringify(value)}`);
  }
}

async function cluster(t: { after(fn: () => unknown): void }, runners: TaskRunner[]): Promise<Engine> {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const cwd = tempDir('o8-asks-');
  const worker = new TaskWorker({ redisUrl: redis.url, runners, workspace: { prepare: async () => ({ cwd, finish: async () => {} }) } });
  await worker.start();
  t.after(() => worker.stop(true));
  const engine = await Engine.open({ stateDir: tempDir('o8-asks-state-'), cwd, executor: new BullmqExecutor({ redisUrl: redis.url }) });
  t.after(() => engine.close());
  return engine;
}

test('a permission request raised on a BullMQ worker parks the task in needs-input; allowing it runs it to completion there', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const engine = await cluster(t, [new AskingRunner()]);
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'agent', agent: 'scripted', prompt: 'go' } } });
  const parked = await until(
    () => engine.task(taskIds[0]!),
    (task) => task.state !== 'queued' && task.state !== 'running',
    'the task stopped',
  );
  assert.equal(parked.state, 'needs-input', `not a failed attempt: ${parked.error ?? ''}`);
  assert.equal(parked.request?.id, 'toolu_1');
  await engine.answer(taskIds[0]!, { decision: 'allow' });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(taskIds[0]!))?.output, 'ran after allow');
  assert.equal((await engine.task(taskIds[0]!)).attempt, 1, 'the answer resumed the parked attempt');
});

test('an overloaded API on a BullMQ worker pauses the run instead of failing the attempt', { skip, timeout: 60_000 }, async (t) => {
  const engine = await cluster(t, [new OverloadedRunner()]);
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'noop' } } });
  const status = await until(
    () => engine.status(runId),
    (s) => s.run.state !== 'running',
    'the run paused',
  );
  assert.equal(status.run.state, 'paused', `run ${status.run.state}, task ${status.tasks[0]!.state}: ${status.tasks[0]!.error ?? ''}`);
  assert.equal((await engine.task(taskIds[0]!)).attempt, 1, 'no attempt was spent');
});
