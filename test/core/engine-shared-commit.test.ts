import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { TaskContext, TaskOutput, TaskRunner } from '../../src/core/runners/task-runner.ts';
import { TaskError } from '../../src/core/runners/task-runner.ts';
import { MemoryBackend } from '../../src/core/store/backend.ts';
import type { StoreRecord } from '../../src/core/store/store-records.ts';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';
import { stillHolds } from '../support/until.ts';

/**
 * Fewer fsyncs between a task and the next: a launch and its first starts, a completion and its
 * dependents' starts, a retry and its restart each go to disk in one commit, and no attempt
 * begins before the commit carrying its start is durable.
 */

/** A noop runner that says when each task began and fails the keys it is told to, once. */
class ProbeRunner implements TaskRunner {
  readonly kind = 'noop';
  readonly began: string[] = [];
  constructor(private readonly failOnce = new Set<string>()) {}

  async execute(ctx: TaskContext): Promise<TaskOutput> {
    this.began.push(ctx.task.key);
    if (this.failOnce.delete(ctx.task.key)) throw new TaskError('failed on purpose', false);
    return { output: ctx.task.key };
  }
}

/** A memory backend whose commits are kept (the records of each) and can be held back until released. */
async function recordingBackend(): Promise<{
  backend: MemoryBackend;
  commits: StoreRecord[][];
  hold(match: (records: StoreRecord[]) => boolean): { held: Promise<void>; release(): void };
}> {
  const backend = await MemoryBackend.open();
  const commits: StoreRecord[][] = [];
  const commit = backend.commit.bind(backend);
  let gate: { match: (records: StoreRecord[]) => boolean; onHeld: () => void; released: Promise<void> } | undefined;
  backend.commit = async (records) => {
    commits.push(records);
    if (gate?.match(records)) {
      const { onHeld, released } = gate;
      gate = undefined;
      onHeld();
      await released;
    }
    return commit(records);
  };
  return {
    backend,
    commits,
    hold(match) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      after(release); // a failed assertion must not leave the engine's close waiting on the held write
      let onHeld!: () => void;
      const held = new Promise<void>((resolve) => (onHeld = resolve));
      gate = { match, onHeld, released };
      return { held, release };
    },
  };
}

const events = (records: StoreRecord[]) => records.flatMap((r) => (r.t === 'event' ? [`${r.event.type} ${r.event.taskId?.split('.')[1] ?? ''}`.trim()] : []));
const commitWith = (commits: StoreRecord[][], event: string) => commits.map(events).find((e) => e.includes(event));

test("a launch and its first tasks' start, a completion and its dependent's start, share one commit", async () => {
  const { backend, commits } = await recordingBackend();
  const probe = new ProbeRunner();
  const { engine } = await openEngine({ backend, runners: [probe] });
  const wf = workflow(`
name: chain
tasks:
  a: { run: x }
  b: { run: x, needs: a }
  c: { run: x, needs: b }
`);
  for (const t of wf.tasks) t.action = { kind: 'noop' };
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.deepEqual(probe.began, ['a', 'b', 'c']);

  assert.ok(commitWith(commits, 'workflow.launched')?.includes('task.started a'), `the launch carries a's start: ${JSON.stringify(commits.map(events))}`);
  assert.ok(commitWith(commits, 'task.completed a')?.includes('task.started b'), `a's completion carries b's start: ${JSON.stringify(commits.map(events))}`);
  assert.ok(commitWith(commits, 'task.completed b')?.includes('task.started c'));
  assert.ok(commitWith(commits, 'task.completed c')?.includes('workflow.completed'));
  assert.equal(commits.length, 4, 'one commit per step of the chain: launch, a, b, c');
});

test('a retry and its restart share one commit', async () => {
  const { backend, commits } = await recordingBackend();
  const probe = new ProbeRunner(new Set(['a']));
  const { engine } = await openEngine({ backend, runners: [probe] });
  const wf = workflow(`
name: once
tasks:
  a: { run: x }
`);
  for (const t of wf.tasks) t.action = { kind: 'noop' };
  const { runId } = await engine.launch({ workflow: wf });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  commits.length = 0;
  await engine.retry(`${runId}.a`);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  const retried = commitWith(commits, 'workflow.resumed');
  assert.ok(retried?.includes('task.reset a') && retried.includes('task.started a'), `the retry carries the restart: ${JSON.stringify(commits.map(events))}`);
});

test("a dependent decided in its need's completion begins only once that commit is durable", async () => {
  const { backend, hold } = await recordingBackend();
  const probe = new ProbeRunner();
  const { engine } = await openEngine({ backend, runners: [probe] });
  const wf = workflow(`
name: pair
tasks:
  a: { run: x }
  b: { run: x, needs: a }
`);
  for (const t of wf.tasks) t.action = { kind: 'noop' };
  const gate = hold((records) => events(records).includes('task.completed a'));
  const heard: string[] = [];
  engine.onEvent((e) => void (e.type === 'task.started' && heard.push(e.task.key)));
  const { runId } = await engine.launch({ workflow: wf });
  await gate.held;
  // Nothing follows while the commit is held, so a bounded check: b's begin, had it not waited
  // for the commit, would come within a few turns of the event loop (no I/O), well inside 100 ms.
  await stillHolds('b is decided but not begun while the commit carrying its start is held', () => probe.began.length === 1, 100);
  assert.deepEqual(probe.began, ['a'], 'b is decided but not begun while the commit carrying its start is held');
  assert.deepEqual(heard, ['a'], 'nobody hears of b starting either');
  assert.equal((await engine.task(`${runId}.b`)).state, 'pending', 'a query answers from what is durable');
  gate.release();
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.deepEqual(probe.began, ['a', 'b']);
  assert.deepEqual(heard, ['a', 'b']);
});
