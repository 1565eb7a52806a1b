import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TaskRecord } from '../../src/core/model/records.ts';
import { dagOrder, presentRun, presentTask } from '../../src/extension/presenters/tree-items.ts';
import { pullRequestUrl } from '../../src/extension/presenters/run-links.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

let fx: EngineFixture;
before(async () => {
  fx = await openEngine();
});
after(async () => fx.close());

test('a running task spins and shows how long it has run; a finished one shows what it took', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow('name: t1\ntasks:\n  slow:\n    run: sleep 0.3 && echo hi\n') });
  const started = await fx.next('task.started', (e) => e.task.runId === runId);
  const running = presentTask(started.task, started.task.startedAt! + 1500);
  assert.deepEqual(running.icon, { id: 'sync~spin' });
  assert.equal(running.description, '1.5s');
  assert.equal(running.contextValue, 'task:running');
  assert.match(running.tooltip, /\*\*slow\*\* — running/);
  assert.match(running.tooltip, /shell `sleep 0\.3 && echo hi`/);

  const done = await fx.next('task.completed', (e) => e.task.runId === runId);
  const completed = presentTask(done.task, Date.now() + 60_000);
  assert.equal(completed.icon.id, 'pass');
  assert.equal(completed.contextValue, 'task:completed:result', 'completed tasks offer Open Result');
  assert.match(completed.description, /^\d/, 'duration is fixed once finished, whatever "now" is');
  assert.equal(presentTask(done.task, Date.now()).description, completed.description);
});

test('a failed attempt waiting out its backoff says when it retries, and which attempt comes', async () => {
  const { runId } = await fx.engine.launch({
    workflow: workflow('name: t2\ntasks:\n  flaky:\n    run: exit 3\n    retries: { max: 2, backoff: 20s, jitter: false }\n'),
  });
  const retrying = await fx.next('task.retrying', (e) => e.task.runId === runId);
  const view = presentTask(retrying.task, retrying.task.notBefore! - 12_000);
  assert.equal(view.icon.id, 'history');
  assert.equal(view.description, 'retry in 12s · attempt 1/3');
  assert.match(view.tooltip, /Error: exited with code 3/);
  const cancelledEvent = fx.next('task.cancelled', (e) => e.task.runId === runId);
  await fx.engine.cancel(runId);
  const cancelled = await cancelledEvent;
  assert.equal(presentTask(cancelled.task, Date.now()).icon.id, 'circle-slash');
});

test('pending tasks name what they wait for; skipped and failed tasks say so', async () => {
  const { runId } = await fx.engine.launch({
    workflow: workflow('name: t3\ntasks:\n  first:\n    run: exit 1\n  second:\n    needs: first\n    run: echo never\n'),
  });
  const launched = fx.events.find((e) => e.type === 'workflow.launched' && e.run.id === runId);
  assert.ok(launched?.type === 'workflow.launched');
  const pending = launched.tasks.find((t) => t.key === 'second')!;
  assert.equal(presentTask(pending, Date.now()).description, 'needs first');
  const failedRun = await fx.next('workflow.failed', (e) => e.run.id === runId);
  const { tasks } = await fx.engine.status(runId);
  const failed = presentTask(tasks.find((t) => t.key === 'first')!, Date.now());
  assert.equal(failed.icon.id, 'error');
  assert.equal(failed.contextValue, 'task:failed');
  assert.equal(presentTask(tasks.find((t) => t.key === 'second')!, Date.now()).description, 'skipped');

  const runView = presentRun(failedRun.run, { finished: 2, total: 2 }, Date.now());
  assert.equal(runView.icon.id, 'error');
  assert.match(runView.description, /^failed · \S+ · 2\/2 tasks · /);
  assert.equal(runView.contextValue, 'run:failed:file', 'launched from a file: Open Workflow File applies');
});

test('token use of agent tasks shows in the description and tooltip', () => {
  const task: TaskRecord = {
    id: 'r1.write',
    runId: 'r1',
    key: 'write',
    name: 'write',
    action: { kind: 'agent', agent: 'coder', prompt: 'Add a test' },
    needs: [],
    state: 'running',
    priority: 0,
    order: 0,
    attempt: 1,
    retry: { max: 0, backoffMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: true },
    continueOnError: false,
    startedAt: 1000,
    updatedAt: 1000,
  };
  const view = presentTask(task, 61_000, { inputTokens: 10_000, outputTokens: 2_345, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0642 });
  assert.equal(view.description, '1m 00s · 12k tokens · $0.064', 'tokens and cost on the row itself');
  assert.match(view.tooltip, /Tokens: 10k in, 2\.3k out/);
  assert.match(view.tooltip, /Cost: \$0\.0642/);
  assert.equal(view.label, 'write');

  // A single-task run's row already shows the long label: its task row names only its kind.
  const single = presentTask({ ...task, name: 'coder: Add a test that covers the parser’s error paths and the CLI exit codes' }, 61_000, undefined, {
    single: true,
  });
  assert.equal(single.label, 'agent coder');

  const run = { id: 'r1', name: 'coder: Add a test', single: true, state: 'completed', createdAt: 0, finishedAt: 60_000, inputs: {} } as unknown as Parameters<
    typeof presentRun
  >[0];
  const runView = presentRun(run, undefined, 61_000, { inputTokens: 1_000_000, outputTokens: 200_000, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 6.5 });
  assert.match(runView.description, /^1m 00s · 1\.2M tokens · \$6\.50 · /, 'the run row sums its tasks');
  assert.match(runView.tooltip, /Cost: \$6\.5000/);
});

test('a waiting task shows its question on the row and in the tooltip', () => {
  const task: TaskRecord = {
    id: 'r1.approve',
    runId: 'r1',
    key: 'approve',
    name: 'approve',
    action: { kind: 'wait', message: 'Deploy ${{ tasks.build.output }}?' },
    needs: ['build'],
    state: 'waiting',
    priority: 0,
    order: 1,
    attempt: 0,
    retry: { max: 0, backoffMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: true },
    continueOnError: false,
    updatedAt: 1000,
  };
  const view = presentTask(task, 2000, undefined, { question: 'Deploy v1.2.3?' });
  assert.equal(view.description, 'waiting: Deploy v1.2.3?');
  assert.match(view.tooltip, /Asks: Deploy v1\\\.2\\\.3\?/);
  assert.equal(view.contextValue, 'task:waiting', 'the manifest offers Approve and Reject on this row');
  assert.equal(presentTask(task, 2000).description, 'waiting for signal');
});

test('an interrupted task says it resumes, and that the interruption used no attempt', () => {
  const task: TaskRecord = {
    id: 'r1.build',
    runId: 'r1',
    key: 'build',
    name: 'build',
    action: { kind: 'run', run: 'make' },
    needs: [],
    state: 'queued',
    priority: 0,
    order: 0,
    attempt: 1,
    retry: { max: 0, backoffMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: true },
    continueOnError: false,
    updatedAt: 1000,
    interruptions: 1,
    interrupted: 'the engine running it (pid 123) stopped',
  };
  const queued = presentTask(task, 2000);
  assert.equal(queued.description, 'resumes after an interruption');
  assert.match(queued.tooltip, /- Interrupted: once \(resumed without using an attempt; last: the engine running it \\?\(pid 123\\?\) stopped\)/);
  assert.doesNotMatch(queued.tooltip, /Error/);
  const { interrupted: _why, ...resumed } = task;
  assert.match(presentTask({ ...resumed, state: 'completed', interruptions: 2 }, 2000).tooltip, /- Interrupted: 2 times \(resumed without using an attempt\)/);
});

test('only http(s) pull request links are offered', async () => {
  const { runId } = await fx.engine.launch({ workflow: workflow('name: t4\ntasks:\n  a:\n    run: "true"\n') });
  await fx.next('workflow.completed', (e) => e.run.id === runId);
  const done = await fx.engine.recordDelivery(runId, { pullRequest: { url: 'https://github.example/o/r/pull/7', number: 7 } });
  assert.equal(pullRequestUrl(done), 'https://github.example/o/r/pull/7');
  assert.equal(presentRun(done, undefined, Date.now()).contextValue, 'run:completed:file:pr');
  for (const bad of ['command:orchestr8.clearFinished', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 42]) {
    assert.equal(pullRequestUrl({ ...done, delivery: { pullRequest: { url: bad as string, number: 1 } } }), undefined, String(bad));
  }
});

test('DAG order puts every task after its needs, file order breaking ties', () => {
  // The file lists `deploy` before the `build` it needs.
  const def = workflow(
    'name: t5\ntasks:\n  deploy:\n    needs: [build, lint]\n    run: "true"\n  lint:\n    run: "true"\n  build:\n    run: "true"\n  docs:\n    run: "true"\n',
  );
  const tasks = def.tasks.map((t, order) => ({ id: `r.${t.id}`, key: t.id, needs: t.needs, order }) as TaskRecord);
  assert.deepEqual(
    dagOrder(tasks).map((t) => t.key),
    ['lint', 'build', 'deploy', 'docs'],
  );
});

test('the tree says which tasks ran sandboxed: the task record keeps sandbox: true, and what the runner noted', async () => {
  const { runId } = await fx.engine.launch({
    workflow: workflow('name: t-sbx\nsandbox: true\ntasks:\n  boxed:\n    run: echo hi\n  open:\n    run: echo hi\n    sandbox: false\n'),
  });
  const { tasks } = await fx.engine.status(runId);
  const [boxed, open] = tasks;
  assert.match(presentTask(boxed!, Date.now()).tooltip, /- Sandbox: required \(`sandbox: true`\)/);
  assert.match(presentTask(open!, Date.now()).tooltip, /- Sandbox: off \(`sandbox: false`\)/);
  await fx.engine.cancel(runId).catch(() => {});

  const ran = presentTask({ ...boxed!, state: 'completed', sandboxed: true }, Date.now());
  assert.match(ran.description, /sandboxed/);
  assert.match(ran.tooltip, /- Commands: ran in the OS sandbox/);
  const unconfined = presentTask({ ...open!, action: { kind: 'agent', agent: 'a', prompt: 'p' }, sandboxed: false }, Date.now());
  assert.match(unconfined.description, /unconfined/);
  assert.match(unconfined.tooltip, /- Commands: ran unconfined/);
  assert.doesNotMatch(unconfined.tooltip, /- Sandbox:/);
});

test('a task failed by a merge conflict names the files in its tooltip and offers to resolve them; other failures do not', () => {
  const base: TaskRecord = {
    id: 'r.t',
    runId: 'r',
    key: 't',
    name: 'backend',
    action: { kind: 'run', run: 'true' },
    needs: [],
    state: 'failed',
    priority: 0,
    order: 0,
    attempt: 1,
    retry: { max: 0, backoffMs: 0, factor: 2, maxDelayMs: 0, jitter: false },
    continueOnError: false,
    updatedAt: 0,
    error: 'merge conflict: …',
  };
  const mergeConflict = {
    files: ['src/api.ts', 'README.md'],
    taskBranch: 'orchestr8/x--backend',
    worktree: '/s/w/r-tasks/backend-1',
    runBranch: 'orchestr8/x',
    runWorktree: '/s/w/r',
  };
  const view = presentTask({ ...base, mergeConflict }, 0);
  assert.equal(view.contextValue, 'task:failed:conflict');
  assert.match(view.tooltip, /^- Conflicts with orchestr8\/x in: `src\/api\.ts`, `README\.md`$/m);
  assert.match(view.tooltip, /^- Resolve: Resolve Merge Conflict… on this row \(worktree \/s\/w\/r\\-tasks\/backend\\-1\), then Retry$/m);
  const plain = presentTask(base, 0);
  assert.equal(plain.contextValue, 'task:failed');
  assert.doesNotMatch(plain.tooltip, /Conflicts with/);
  // A retry clears the record's conflict; a stale one on a task that is running again is not offered.
  assert.equal(presentTask({ ...base, state: 'running', mergeConflict }, 0).contextValue, 'task:running');
});
