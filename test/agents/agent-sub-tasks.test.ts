import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { lastToolResults, promptOf, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeAgentProject } from '../support/agent-project.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { until } from '../support/until.ts';

test('an agent launches sub-tasks, waits for them without spending tokens, and uses their results', async () => {
  const WORKER_MS = 400;
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'You are the orchestrator.': (turn, req) => {
        if (turn === 1)
          return toolReply([
            { name: 'launch_task', input: { agent: 'worker', prompt: 'part A' } },
            { name: 'launch_task', input: { agent: 'worker', prompt: 'part B' } },
          ]);
        if (turn === 2) {
          const ids = lastToolResults(req).map((r) => /launched task (\S+)/.exec(r)![1]!);
          return toolReply([{ name: 'wait_for_tasks', input: { task_ids: ids, timeout_ms: 20_000 } }]);
        }
        return textReply('both parts are done');
      },
      'You are a worker.': (turn, req) => {
        const part = promptOf(req);
        if (turn === 1) return toolReply([{ name: 'write_file', input: { path: `${part.replace(' ', '-')}.txt`, content: part } }], { delayMs: WORKER_MS });
        return textReply(`finished ${part}`, { delayMs: WORKER_MS });
      },
    }),
  });
  after(() => server.close());
  const project = await makeAgentProject({ orchestrator: { prompt: 'You are the orchestrator.' }, worker: { prompt: 'You are a worker.' } });
  after(() => project.dispose());
  const { engine } = await openEngine({ cwd: project.root, runners: [new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, env: {} })] });

  const { runId, taskIds } = await engine.launch({ task: { name: 'orchestrate', action: { kind: 'agent', agent: 'orchestrator', prompt: 'split the work' } } });
  const run = await runFinished(engine, runId, 30_000);
  assert.equal(run.state, 'completed');
  assert.equal((await engine.result(taskIds[0]!))?.output, 'both parts are done');

  const isParent = (i: number) => JSON.stringify(server.requests[i]!.body.system).includes('orchestrator');
  const parentRequests = server.requests.map((_, i) => i).filter(isParent);
  assert.equal(parentRequests.length, 3, 'the parent spent turns while waiting');
  // The parent's third turn came after both workers finished, and carried their results.
  const final = server.requests[parentRequests[2]!]!;
  const waited = lastToolResults(final)[0]!;
  assert.match(waited, /all tasks finished/);
  assert.match(waited, /completed\nfinished part A/);
  assert.match(waited, /completed\nfinished part B/);
  const workerTimes = server.requests.filter((_, i) => !isParent(i)).map((r) => r.at);
  assert.equal(workerTimes.length, 4);
  assert.ok(final.at >= Math.max(...workerTimes), 'the parent resumed before its workers finished');
  // Workers ran in parallel, as their own runs, in the same folder.
  assert.equal(await readFile(join(project.root, 'part-A.txt'), 'utf8'), 'part A');
  assert.equal(await readFile(join(project.root, 'part-B.txt'), 'utf8'), 'part B');
  const workers = (await engine.list()).runs.filter((r) => r.id !== runId);
  assert.equal(workers.length, 2);
  assert.ok(workers.every((r) => r.state === 'completed' && r.single));
  for (const w of workers) {
    const [task] = (await engine.status(w.id)).tasks;
    // A crash costs the running attempt; sub-tasks keep attempts to resume with.
    assert.equal(task!.retry.max, 2);
    assert.equal(w.cwd, project.root);
  }
  // Usage is recorded per task and adds up for the parent.
  const usage = await engine.usage(taskIds[0]!);
  const parentIn = parentRequests.length; // one usage row per parent turn
  assert.equal((await engine.tokenUsage(taskIds[0]!)).length, parentIn);
  assert.ok(usage.inputTokens > 0 && usage.costUsd > 0);
});

test('through the engine: a stalled stream hits the task timeout, the engine retries, the retry completes', async () => {
  const server = await FakeAnthropicServer.start();
  after(() => server.close());
  const project = await makeAgentProject({ slowpoke: {} });
  after(() => project.dispose());
  // The engine's time moves only when the test says: the first attempt times out once it has
  // streamed, and the retry never does, however slow a loaded machine makes it.
  const clock = new ManualClock(Date.now());
  const { engine } = await openEngine({ cwd: project.root, clock, runners: [new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, env: {} })] });
  server.enqueue({ kind: 'stall', text: 'hmm' }, textReply('second attempt answered'));
  const { runId, taskIds } = await engine.launch({
    task: { name: 'slow', action: { kind: 'agent', agent: 'slowpoke', prompt: 'answer' }, timeoutMs: 700, retries: 1 },
  });
  await until('the first attempt to stream, then stall', async () => (await engine.log(taskIds[0]!)).includes('hmm'), 20_000);
  clock.advance(700);
  // To the retry's backoff and no further: the retry's own timeout is due 700 ms after that.
  const backoff = await until('the retry’s backoff timer', () => clock.due[0], 20_000);
  clock.advance(backoff - clock.now());
  const run = await runFinished(engine, runId, 20_000);
  assert.equal(run.state, 'completed');
  const task = await engine.task(taskIds[0]!);
  assert.equal(task.attempt, 2);
  assert.equal((await engine.result(task.id))?.output, 'second attempt answered');
  assert.equal(server.requests.length, 2, 'the SDK retried the aborted request on its own');
  assert.match(await engine.log(task.id), /hmm/);
});
