import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';

test('a task that fails or times out before printing anything has its failure in the log', async () => {
  const { engine } = await openEngine();
  const { runId } = await engine.launch({
    workflow: workflow('name: quiet\ntasks:\n  silent: { run: "exit 3", retries: { max: 1, backoff: 10ms } }\n  slow: { run: "sleep 5", timeout: 200ms }\n'),
  });
  await runFinished(engine, runId);
  const silent = await engine.log(`${runId}.silent`);
  assert.match(silent, /--- attempt 1 failed: exited with code 3 · retrying in \d+ ?ms · \S+ ---/);
  assert.match(silent, /--- attempt 2 failed: exited with code 3 · \S+ ---/);
  assert.match(await engine.log(`${runId}.slow`), /--- attempt 1 failed: timed out after 200 ms · \S+ ---/);
});

test('attempts keep counting across a user retry, which grants the retry budget again', async () => {
  const { engine } = await openEngine();
  const { runId } = await engine.launch({ workflow: workflow('name: again\ntasks:\n  flaky: { run: "exit 1", retries: { max: 1, backoff: 10ms } }\n') });
  await runFinished(engine, runId);
  assert.equal((await engine.task(`${runId}.flaky`)).attempt, 2);
  await engine.retry(runId);
  await runFinished(engine, runId);
  const task = await engine.task(`${runId}.flaky`);
  assert.equal(task.attempt, 4, 'two more attempts (the budget again), numbered 3 and 4');
  assert.equal(task.attemptBase, 2);
  const log = await engine.log(`${runId}.flaky`);
  assert.equal(log.match(/--- attempt 1 failed/g)?.length, 1, 'no second "attempt 1"');
  assert.match(
    log,
    /--- attempt 2 failed: exited with code 1 · \S+ ---\n--- attempt 3 failed: exited with code 1 · retrying in [^\n]+\n--- attempt 4 failed: exited with code 1 · \S+ ---\n$/,
  );
});

test('a wait task’s log says what it asks, references filled in, and the command that answers it', async () => {
  const { engine } = await openEngine();
  const { runId } = await engine.launch({
    workflow: workflow(
      'name: ask\ninputs:\n  who: { default: team }\ntasks:\n  build: { run: echo v1.2 }\n  approve: { wait: "Ship ${tasks.build.result} to ${inputs.who}?", needs: build }\n',
    ),
  });
  for (let i = 0; i < 200 && !(await engine.log(`${runId}.approve`)).includes('waiting'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(
    await engine.log(`${runId}.approve`),
    new RegExp(`^--- waiting for a signal: Ship v1\\.2\\n? to team\\? · answer: orchestr8 signal ${runId}\\.approve \\[PAYLOAD\\] · \\S+ ---\\n$`),
  );
  await engine.signal(`${runId}.approve`, 'ok');
  await runFinished(engine, runId);
});
