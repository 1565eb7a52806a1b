import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { EngineEvent, EventOf } from '../../src/core/model/events.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { runFinished } from '../support/engine-harness.ts';
import { LineProcess } from '../support/line-process.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();
const cliEntry = fileURLToPath(new URL('../../src/cli/cli.ts', import.meta.url));

/** A private Redis, an `orchestr8 worker` process whose agent runner talks to the local Messages server, and an owner engine dispatching to it. */
async function cluster(t: {
  after(fn: () => unknown): void;
}): Promise<{ cluster: BullmqCluster; anthropic: FakeAnthropicServer; worker: LineProcess; engine: Engine }> {
  const cluster = await BullmqCluster.start();
  t.after(() => cluster.dispose());
  const anthropic = await FakeAnthropicServer.start();
  t.after(() => anthropic.close());
  fs.mkdirSync(path.join(cluster.project, '.orchestr8/agents'), { recursive: true });
  fs.writeFileSync(
    path.join(cluster.project, '.orchestr8/agents/shell.md'),
    '---\nname: shell\ndescription: runs commands\ntools: Read, Bash\n---\nYou run commands.\n',
  );
  const worker = LineProcess.start('worker', cliEntry, ['worker', '--redis', cluster.redis.url, '--lock-duration', '2000'], {
    ANTHROPIC_API_KEY: anthropic.apiKey,
    ANTHROPIC_BASE_URL: anthropic.url,
    ORCHESTR8_SANDBOX: 'off',
  });
  cluster.processes.push(worker);
  await worker.waitFor(/ready on/);
  const engine = await Engine.open({ stateDir: cluster.stateDir, cwd: cluster.project, executor: new BullmqExecutor({ redisUrl: cluster.redis.url }) });
  t.after(() => engine.close());
  return { cluster, anthropic, worker, engine };
}

/** The first event that stops the attempt one way or another: a failure shows at once instead of as a timeout. */
function stopped(engine: Engine, types: EngineEvent['type'][], timeoutMs = 60_000): Promise<EngineEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sub.dispose(), reject(new Error(`none of ${types.join(', ')} within ${timeoutMs} ms`))), timeoutMs);
    const sub = engine.onEvent((e) => {
      if (!types.includes(e.type)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

const AGENT = { task: { action: { kind: 'agent' as const, agent: 'shell', prompt: 'make out.txt' } } };

test('BullMQ with the real agent runner: an `orchestr8 worker` process parks the agent on its uncovered Bash call, the owner allows it once, the task completes on the worker', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const { cluster: c, anthropic, worker, engine } = await cluster(t);
  anthropic.enqueue(toolReply([{ name: 'run_command', input: { command: 'echo hi > out.txt' } }]), textReply('made it'));
  const parked = stopped(engine, ['task.needs-input', 'task.failed', 'task.retrying']);
  const { runId, taskIds } = await engine.launch(AGENT);
  const event = await parked;
  assert.equal(event.type, 'task.needs-input', `${JSON.stringify(event)}\n${worker.errorOutput}`);
  const asked = (event as EventOf<'task.needs-input'>).task;
  assert.equal(asked.id, taskIds[0]);
  assert.deepEqual(asked.request?.kind === 'permission' && [asked.request.call, asked.request.rule], ['Bash(echo hi > out.txt)', 'Bash(echo:*)']);
  assert.ok(!fs.existsSync(path.join(c.project, 'out.txt')), 'nothing ran before the answer');
  assert.equal(anthropic.requests.length, 1);

  await engine.answer(taskIds[0]!, { decision: 'allow' });
  const run = await runFinished(engine, runId, 60_000);
  const task = await engine.task(taskIds[0]!);
  assert.equal(run.state, 'completed', `${task.state}: ${task.error ?? ''}\n${worker.errorOutput}`);
  assert.equal(fs.readFileSync(path.join(c.project, 'out.txt'), 'utf8'), 'hi\n', 'the allowed command ran');
  assert.equal((await engine.result(taskIds[0]!))?.output, 'made it');
  assert.equal(task.attempt, 1, 'the answer resumed the parked attempt');
  // The resumed attempt sent only the next turn, with the command's result: the first turn was not paid for twice.
  assert.equal(anthropic.requests.length, 2);
  const toolResult = (anthropic.requests[1]!.body.messages.at(-1)!.content as { type: string; is_error?: boolean }[])[0]!;
  assert.deepEqual([toolResult.type, toolResult.is_error ?? false], ['tool_result', false]);
});

test('BullMQ with the real agent runner: a Messages server answering 529 past the SDK retries pauses the run; it resumes on the worker once the server recovers', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const { anthropic, worker, engine } = await cluster(t);
  anthropic.outage({ kind: 'error', status: 529, retryAfterSeconds: 1 });
  const paused = stopped(engine, ['workflow.paused', 'task.failed', 'task.retrying']);
  const { runId, taskIds } = await engine.launch(AGENT);
  const event = await paused;
  assert.equal(event.type, 'workflow.paused', `${JSON.stringify(event)}\n${worker.errorOutput}`);
  const pause = (event as EventOf<'workflow.paused'>).run.pause!;
  assert.match(pause.reason, /overloaded \(529 after 4 retries\)/);
  assert.equal(pause.until! - pause.since, 1000, "the API's retry-after");
  assert.equal(anthropic.requests.length, 5, 'the first request and the SDK’s 4 retries, then nothing while paused');

  anthropic.enqueue(textReply('done once the API was back'));
  // (runFinished would take the paused run for finished)
  const ended = stopped(engine, ['workflow.completed', 'workflow.failed', 'workflow.cancelled']);
  anthropic.recover();
  const run = ((await ended) as EventOf<'workflow.completed'>).run;
  assert.equal(run.id, runId);
  const task = await engine.task(taskIds[0]!);
  assert.equal(run.state, 'completed', `${task.state}: ${task.error ?? ''}\n${worker.errorOutput}`);
  assert.equal((await engine.result(taskIds[0]!))?.output, 'done once the API was back');
  assert.equal(task.attempt, 1, 'a pause spends no attempt');
});
