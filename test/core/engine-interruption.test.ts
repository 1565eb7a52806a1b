import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../src/core/engine/engine.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import type { TaskRecord } from '../../src/core/model/records.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import { MAX_STALLS } from '../../src/core/scheduler/task-machine.ts';
import { LineProcess } from '../support/line-process.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

// Prints "first" and hangs the first time, prints "second" and ends the next: a task whose
// engine is stopped during its first run completes only if it is run again.
const RESUMABLE = 'if [ -e marker ]; then echo second; else touch marker; echo first; sleep 30; fi';

/** Lines of the log that the engine writes itself, in order. */
async function headers(engine: Engine, taskId: string): Promise<string[]> {
  return (await engine.log(taskId)).split('\n').filter((l) => l.startsWith('--- ') || l === 'first' || l === 'second');
}

test('an owner SIGKILLed mid-task: the next owner resumes the task without spending an attempt, and the log says so', { timeout: 60_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const request = { task: { action: { kind: 'run' as const, run: RESUMABLE }, retries: 0 } };
  const child = LineProcess.start('owner', 'test/support/owner-child.ts', [stateDir, cwd, JSON.stringify(request)]);
  const runId = (JSON.parse(await child.waitFor(/"launched"/)) as { launched: string }).launched;
  await child.waitFor(/"text":"first/);
  child.child.kill('SIGKILL');
  await child.exited;

  const { engine } = await openEngine({ stateDir, cwd });
  const run = await runFinished(engine, runId);
  const task = await engine.task(`${runId}.task`);
  assert.equal(run.state, 'completed', `resumed, not failed: ${task.error ?? ''}`);
  assert.equal(task.attempt, 1, 'an interruption is not an attempt');
  assert.equal(task.interruptions, 1);
  assert.equal(task.interrupted, undefined, 'resumed: no longer pending an interruption');
  const lines = await headers(engine, task.id);
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(lines[0]!, /^--- attempt 1 · \d{4}-.*Z ---$/);
  assert.equal(lines[1], 'first');
  assert.match(lines[2]!, new RegExp(`^--- attempt 1 interrupted: the engine running it \\(pid ${child.pid}\\) stopped · \\d{4}-.*Z ---$`));
  assert.match(lines[3]!, /^--- attempt 1 \(resumed after interruption 1\) · \d{4}-.*Z ---$/);
  assert.equal(lines[4], 'second');
});

test('a clean close interrupts without spending an attempt: the next owner resumes it and the log shows both', async () => {
  const first = await openEngine();
  const { runId, taskIds } = await first.engine.launch({ task: { action: { kind: 'run', run: RESUMABLE }, retries: 0 } });
  await until('the task printed', async () => (await first.engine.log(taskIds[0]!)).includes('first'));
  const heard: EngineEvent[] = [];
  first.engine.onEvent((e) => heard.push(e));
  await first.engine.close();
  const event = heard.find((e) => e.type === 'task.interrupted');
  assert.ok(event?.type === 'task.interrupted', `heard: ${heard.map((e) => e.type).join(', ')}`);
  assert.equal(event.reason, 'the engine running it shut down');
  assert.equal(event.task.state, 'queued');
  assert.equal(event.task.attempt, 1);
  assert.ok(!heard.some((e) => e.type === 'task.retrying' || e.type === 'task.failed'), 'nothing presents it as a failure');

  const second = await openEngine({ stateDir: first.stateDir, cwd: first.cwd });
  assert.equal((await runFinished(second.engine, runId)).state, 'completed');
  const task = await second.engine.task(taskIds[0]!);
  assert.equal(task.attempt, 1);
  assert.equal(task.interruptions, 1);
  const lines = await headers(second.engine, task.id);
  assert.match(lines[2]!, /^--- attempt 1 interrupted: the engine running it shut down · /);
  assert.match(lines[3]!, /^--- attempt 1 \(resumed after interruption 1\) · /);
  assert.equal(lines[4], 'second');
});

test(`a task whose engine dies under it more than ${MAX_STALLS} times fails, saying so`, { timeout: 120_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const request = { id: 'stalls', task: { action: { kind: 'run' as const, run: 'echo up; sleep 30' }, retries: 2 } };
  const taskId = 'stalls.task';
  for (let i = 1; i <= MAX_STALLS + 1; i++) {
    // The first owner launches; each next one resumes the task (a stall), prints "up" again, and is killed too.
    const child = LineProcess.start('owner', 'test/support/owner-child.ts', i === 1 ? [stateDir, cwd, JSON.stringify(request)] : [stateDir, cwd]);
    await child.waitFor(/"text":"up/);
    child.child.kill('SIGKILL');
    await child.exited;
    const stored = await storedTask(stateDir, taskId);
    assert.equal(stored.state, 'running', 'left running by the dead owner');
    assert.equal(stored.stalls ?? 0, i - 1, 'each owner that died before resumed it once more');
    assert.equal(stored.attempt, 1);
  }
  const { engine } = await openEngine({ stateDir, cwd });
  const run = await runFinished(engine, 'stalls');
  const task = await engine.task(taskId);
  assert.equal(run.state, 'failed', 'retries are for failures of the task, not for its engine dying');
  assert.equal(task.stalls, MAX_STALLS + 1);
  assert.match(
    task.error!,
    new RegExp(
      `^its engine died under it ${MAX_STALLS + 1} times; at most ${MAX_STALLS} are resumed \\(the last: the engine running it \\(pid \\d+\\) stopped\\)$`,
    ),
  );
  assert.equal(task.attempt, 1);
  assert.equal((await engine.log(taskId)).match(/interrupted: the engine running it \(pid \d+\) stopped/g)?.length, MAX_STALLS + 1);
});

test(`clean shutdowns are never counted against a task: ${MAX_STALLS + 2} reloads mid-task, and it still completes`, { timeout: 120_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  // Hangs until the sixth start, then ends.
  const run = 'echo up; echo up >> starts; if [ $(wc -l < starts) -ge 6 ]; then echo done; else sleep 30; fi';
  let runId = '';
  for (let i = 1; i <= MAX_STALLS + 2; i++) {
    const { engine } = await openEngine({ stateDir, cwd });
    if (i === 1) runId = (await engine.launch({ task: { action: { kind: 'run', run }, retries: 0 } })).runId;
    await until(
      `start ${i}`,
      async () => (await engine.task(`${runId}.task`)).state === 'running' && ((await engine.log(`${runId}.task`)).match(/^up$/gm) ?? []).length >= i,
    );
    await engine.close();
    const stored = await storedTask(stateDir, `${runId}.task`);
    assert.equal(stored.state, 'queued', `reload ${i} is resumed`);
    assert.equal(stored.interruptions, i);
    assert.equal(stored.stalls, undefined);
  }
  const { engine } = await openEngine({ stateDir, cwd });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.task(`${runId}.task`)).attempt, 1);
});

/** The task as stored, read without owning the state. */
async function storedTask(stateDir: string, taskId: string): Promise<TaskRecord> {
  const reader = await StateStore.openReader(stateDir);
  try {
    return (await reader.index.getTask(taskId))!;
  } finally {
    await reader.close();
  }
}
