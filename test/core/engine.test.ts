import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { TaskContext, TaskOutput, TaskRunner } from '../../src/core/runners/task-runner.ts';
import { MemoryBackend } from '../../src/core/store/backend.ts';
import { isProcessAlive } from '../../src/core/store/state-lock.ts';
import { openEngine, nextEvent, runFinished, workflow } from '../support/engine-harness.ts';
import { until } from '../support/until.ts';

/** A runner whose tasks finish when the test says so: `release(key)`. */
class LatchRunner implements TaskRunner {
  readonly kind = 'noop';
  readonly started: string[] = [];
  /** The most tasks it ever held at once: a cap checked over the whole run, not at one moment. */
  mostRunning = 0;
  private running = 0;
  private latches = new Map<string, () => void>();
  private waiting = new Map<string, (() => void)[]>();

  execute(ctx: TaskContext): Promise<TaskOutput> {
    this.started.push(ctx.task.key);
    this.mostRunning = Math.max(this.mostRunning, ++this.running);
    for (const resolve of this.waiting.get(ctx.task.key) ?? []) resolve();
    return new Promise<TaskOutput>((resolve, reject) => {
      this.latches.set(ctx.task.key, () => resolve({ output: `${ctx.task.key} done` }));
      ctx.signal.addEventListener('abort', () => reject(new Error(String(ctx.signal.reason))));
    }).finally(() => this.running--);
  }

  whenStarted(key: string): Promise<void> {
    if (this.started.includes(key)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(key, [...(this.waiting.get(key) ?? []), resolve]));
  }

  release(key: string): void {
    this.latches.get(key)!();
  }
}

test('launch resolves with durable ids before any task has run', async () => {
  const latch = new LatchRunner();
  const { engine } = await openEngine({ runners: [latch] });
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'noop' } } });
  assert.equal(taskIds[0], `${runId}.task`);
  assert.deepEqual(latch.started, []);
  // Stored with the launch; by the time the index answers, its start may be durable too (never its end: the latch holds it).
  assert.ok(['queued', 'running'].includes((await engine.status(runId)).tasks[0]!.state));
  await latch.whenStarted('task');
  latch.release('task');
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(taskIds[0]!))?.output, 'task done');
});

test('a task starts as soon as its own needs complete, not when a whole phase does', async () => {
  const latch = new LatchRunner();
  const { engine } = await openEngine({ backend: await MemoryBackend.open(), runners: [latch] });
  const wf = workflow(`
name: dag
tasks:
  a: { run: x }
  slow: { run: x }
  after_a: { run: x, needs: a }
  join: { run: x, needs: [after_a, slow] }
`);
  // Route every task to the latch runner.
  for (const t of wf.tasks) t.action = { kind: 'noop' };
  const { runId } = await engine.launch({ workflow: wf });
  await Promise.all([latch.whenStarted('a'), latch.whenStarted('slow')]);
  assert.deepEqual(new Set(latch.started), new Set(['a', 'slow']), 'independent tasks start together');
  latch.release('a');
  await latch.whenStarted('after_a');
  assert.ok(!latch.started.includes('join'), 'join waits for both of its needs');
  assert.equal((await engine.task(`${runId}.slow`)).state, 'running', 'after_a started while slow still runs');
  latch.release('after_a');
  latch.release('slow');
  await latch.whenStarted('join');
  latch.release('join');
  assert.equal((await runFinished(engine, runId)).state, 'completed');
});

test('per-workflow concurrency caps running tasks; higher priority starts first', async () => {
  const latch = new LatchRunner();
  const { engine } = await openEngine({ backend: await MemoryBackend.open(), runners: [latch] });
  const wf = workflow(`
name: capped
concurrency: 2
tasks:
  t1: { run: x }
  t2: { run: x }
  t3: { run: x }
  t4: { run: x, priority: 10 }
`);
  for (const t of wf.tasks) t.action = { kind: 'noop' };
  const { runId } = await engine.launch({ workflow: wf });
  await latch.whenStarted('t4');
  await latch.whenStarted('t1');
  assert.deepEqual(latch.started, ['t4', 't1'], 'priority first, then file order');
  latch.release('t4');
  await latch.whenStarted('t2');
  assert.equal(latch.started.length, 3);
  latch.release('t1');
  latch.release('t2');
  await latch.whenStarted('t3');
  latch.release('t3');
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal(latch.mostRunning, 2, 'two at a time, never more');
});

test('retries back off exponentially and the last error is kept when attempts run out', async () => {
  const { engine, events } = await openEngine();
  const wf = workflow(`
name: retrying
tasks:
  flaky: { run: "exit 7", retries: { max: 2, backoff: 100ms, factor: 2, jitter: false } }
`);
  const { runId } = await engine.launch({ workflow: wf });
  const run = await runFinished(engine, runId);
  assert.equal(run.state, 'failed');
  const task = await engine.task(`${runId}.flaky`);
  assert.equal(task.attempt, 3);
  assert.match(task.error!, /exited with code 7/);
  const retries = events.filter((e) => e.type === 'task.retrying');
  assert.deepEqual(
    retries.map((e) => (e as { delayMs: number }).delayMs),
    [100, 200],
  );
  const starts = events.filter((e) => e.type === 'task.started').map((e) => (e as { task: { startedAt: number } }).task.startedAt);
  assert.ok(starts[1]! - starts[0]! >= 100 && starts[2]! - starts[1]! >= 200, `backoff respected: ${starts.join(', ')}`);
});

test('a timeout kills the attempt and fails the task', async () => {
  const { engine } = await openEngine();
  const wf = workflow(`
name: timing-out
tasks:
  hang: { run: "sleep 30", timeout: 300ms }
`);
  const started = Date.now();
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  assert.match((await engine.task(`${runId}.hang`)).error!, /timed out after 300 ms/);
  assert.ok(Date.now() - started < 5000);
});

test('cancel kills the whole process tree of a running shell task and skips its dependents', async () => {
  const { engine, cwd } = await openEngine();
  const pids = path.join(cwd, 'pids');
  const wf = workflow(`
name: cancel-me
tasks:
  tree: { run: "sleep 60 & echo $! >> pids; (sleep 60 & echo $! >> pids; wait) & echo $$ >> pids; wait" }
  after: { run: "echo never", needs: tree }
`);
  const started = nextEvent(engine, 'task.started', (e) => e.task.key === 'tree');
  const { runId } = await engine.launch({ workflow: wf });
  await started;
  await until('the task to write its three pids', () => fs.existsSync(pids) && fs.readFileSync(pids, 'utf8').trim().split('\n').length >= 3, 10_000);
  const tree = fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  assert.equal(tree.length, 3);
  assert.ok(tree.every(isProcessAlive));
  await engine.cancel(`${runId}.tree`);
  const run = await runFinished(engine, runId);
  assert.equal(run.state, 'cancelled');
  assert.equal((await engine.task(`${runId}.after`)).state, 'skipped');
  await until(
    'shell, child and grandchild all gone',
    () => !tree.some(isProcessAlive),
    10_000,
    () => `alive: ${tree.filter(isProcessAlive).join(', ')}`,
  );
});

test('a failure skips every transitive dependent; continue_on_error lets dependents run', async () => {
  const { engine } = await openEngine();
  const wf = workflow(`
name: skipping
tasks:
  bad: { run: "exit 1" }
  child: { run: "echo c", needs: bad }
  grandchild: { run: "echo g", needs: child }
  tolerated: { run: "exit 1", continue_on_error: true }
  goes_on: { run: "echo ok", needs: tolerated }
`);
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const { tasks } = await engine.status(runId);
  const state = Object.fromEntries(tasks.map((t) => [t.key, t.state]));
  assert.deepEqual(state, { bad: 'failed', child: 'skipped', grandchild: 'skipped', tolerated: 'failed', goes_on: 'completed' });
  assert.match(tasks.find((t) => t.key === 'grandchild')!.error!, /needs child, which was skipped/);
});

test('results flow into dependents through interpolation, quoted for the shell', async () => {
  const { engine } = await openEngine({ backend: await MemoryBackend.open() });
  const wf = workflow(`
name: chain
inputs:
  who: { default: world }
tasks:
  make: { run: "printf '%s' 'a; echo INJECTED'" }
  use: { run: "printf 'got [%s] for %s' \${tasks.make.result} \${inputs.who}", needs: make }
`);
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(`${runId}.use`))?.output, 'got [a; echo INJECTED] for world');
});

test('a wait task completes on its signal, with the payload as its result', async () => {
  const { engine } = await openEngine();
  const wf = workflow(`
name: approval
tasks:
  approve: { wait: Ship it? }
  ship: { run: "echo shipped after \${tasks.approve.result}", needs: approve }
`);
  const waiting = nextEvent(engine, 'task.waiting');
  const { runId } = await engine.launch({ workflow: wf });
  await waiting;
  assert.equal((await engine.task(`${runId}.approve`)).state, 'waiting');
  await engine.signal(`${runId}.approve`, 'yes');
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(`${runId}.ship`))?.output, 'shipped after yes');
});

test('a rejected wait task fails with the reason, its dependents are skipped, and a retry asks again', async () => {
  const { engine } = await openEngine();
  const wf = workflow(`
name: approval
tasks:
  approve: { wait: Ship it? }
  ship: { run: "echo shipped", needs: approve }
`);
  const waiting = nextEvent(engine, 'task.waiting');
  const { runId } = await engine.launch({ workflow: wf });
  await waiting;
  await engine.signal(`${runId}.approve`, 'tests are red', { reject: true });
  const { run, tasks } = await engine.status(runId);
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  assert.equal(run.id, runId);
  assert.deepEqual(
    tasks.map((t) => [t.key, t.state]),
    [
      ['approve', 'failed'],
      ['ship', 'skipped'],
    ],
  );
  assert.equal(tasks[0]!.error, 'rejected: tests are red');
  assert.equal(await engine.result(`${runId}.approve`), undefined, 'a rejection is not a result');

  const again = nextEvent(engine, 'task.waiting');
  await engine.retry(runId);
  await again;
  await engine.signal(`${runId}.approve`);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
});

test('retry puts failed and skipped tasks back into play; completed ones are kept', async () => {
  const { engine, cwd } = await openEngine({ backend: await MemoryBackend.open() });
  const wf = workflow(`
name: fix-and-retry
tasks:
  ok: { run: "echo once >> ok.log" }
  needs_file: { run: "cat ready.txt" }
  after: { run: "echo after", needs: needs_file }
`);
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  fs.writeFileSync(path.join(cwd, 'ready.txt'), 'now ready');
  await engine.retry(runId);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(`${runId}.needs_file`))?.output, 'now ready');
  assert.equal(fs.readFileSync(path.join(cwd, 'ok.log'), 'utf8'), 'once\n', 'completed task not re-run');
  await assert.rejects(engine.retry(runId), /nothing to retry/);
});

test('notifications wait for delivery: one per finished run, one per failed task of a workflow', async () => {
  const { engine } = await openEngine({ backend: await MemoryBackend.open() });
  const { runId } = await engine.launch({ workflow: workflow('name: n\ntasks:\n  bad: { run: "exit 2" }\n  fine: { run: "true" }\n') });
  await runFinished(engine, runId);
  const pending = await engine.undeliveredNotifications();
  assert.deepEqual(pending.map((n) => n.kind).sort(), ['task.failed', 'workflow.failed']);
  await engine.markDelivered(pending.map((n) => n.id));
  assert.deepEqual(await engine.undeliveredNotifications(), []);
});

test('missing required input and unknown ids are clear errors', async () => {
  const { engine } = await openEngine({ backend: await MemoryBackend.open() });
  await assert.rejects(
    engine.launch({ workflow: workflow('name: x\ninputs:\n  ticket: { required: true }\ntasks:\n  a: { run: "echo ${inputs.ticket}" }\n', 'x.yaml') }),
    /x\.yaml:3:3: .*ticket/,
  );
  await assert.rejects(engine.status('nope'), /no run nope/);
  await assert.rejects(engine.result('nope.task'), /no run nope/);
});

test('close interrupts running tasks without using up an attempt; the next owner runs them again', async () => {
  const latch = new LatchRunner();
  const first = await openEngine({ runners: [latch] });
  const { runId } = await first.engine.launch({ task: { action: { kind: 'noop' } } });
  await latch.whenStarted('task');
  await first.engine.close();
  const latch2 = new LatchRunner();
  const second = await openEngine({ runners: [latch2], stateDir: first.stateDir });
  await latch2.whenStarted('task');
  assert.equal((await second.engine.task(`${runId}.task`)).attempt, 1, 'the interrupted attempt was given back');
  latch2.release('task');
  assert.equal((await runFinished(second.engine, runId)).state, 'completed');
});
