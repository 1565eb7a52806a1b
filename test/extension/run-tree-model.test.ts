import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_RETRY, type WorkflowDef } from '../../src/core/model/workflow.ts';
import { RunTreeModel, type TreeChange, type TreeEngine, type TreeNode } from '../../src/extension/presenters/run-tree-model.ts';
import { until } from '../support/until.ts';
import { openEngine, workflow, type EngineFixture } from './real-engine.ts';

/** CPU time this process has used (main thread and workers), in ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

let fx: EngineFixture;
before(async () => {
  fx = await openEngine({ concurrency: 8 });
});
after(async () => fx.close());

const labels = async (model: RunTreeModel, nodes: TreeNode[]) => Promise.all(nodes.map(async (n) => (await model.item(n, Date.now()))!.label));

function noopWorkflow(name: string, tasks: number): WorkflowDef {
  return {
    name,
    inputs: [],
    tasks: Array.from({ length: tasks }, (_, i) => ({
      id: `t${i}`,
      needs: i > 0 && i % 10 !== 0 ? [`t${i - 1}`] : [],
      action: { kind: 'noop' as const, output: `out ${i}` },
      retry: DEFAULT_RETRY,
      continueOnError: false,
      priority: 0,
    })),
  };
}

test('runs newest first; tasks load only when a run is expanded, in DAG order', async () => {
  const first = await fx.engine.launch({ workflow: workflow('name: older\ntasks:\n  b:\n    needs: a\n    run: "true"\n  a:\n    run: "true"\n') });
  const { run: older } = await fx.next('workflow.completed', (e) => e.run.id === first.runId);
  await until('a creation time later than the first run’s', () => Date.now() > older.createdAt, 1000);
  const second = await fx.engine.launch({ workflow: workflow('name: newer\ntasks:\n  x:\n    run: "true"\n') });
  await fx.next('workflow.completed', (e) => e.run.id === second.runId);

  const model = new RunTreeModel(fx.engine);
  const roots = await model.roots();
  assert.deepEqual(await labels(model, roots), ['newer', 'older']);
  assert.equal(model.task(`${first.runId}.a`), undefined, 'finished runs’ tasks are not loaded up front');
  const children = await model.children(roots[1]!);
  assert.deepEqual(await labels(model, children), ['a', 'b'], '`b` is listed first in the file but needs `a`');
  assert.equal(model.parent(children[0]!), roots[1], 'a task row’s parent is its run row (for reveal)');
});

test('engine events update cached rows and say which rows changed', async () => {
  const model = new RunTreeModel(fx.engine);
  const before = await model.roots();
  const changes: TreeChange[] = [];
  const sub = fx.engine.onEvent((e) => changes.push(model.apply(e)));
  const { runId } = await fx.engine.launch({ workflow: workflow('name: live\ntasks:\n  one:\n    run: sleep 0.2\n  two:\n    needs: one\n    run: "true"\n') });
  assert.equal(changes[0]?.root, true, 'a launch changes the root list');
  const runNode = model.nodeOf({ runId })!;
  assert.equal(model.runCount, before.length + 1);
  const kids = await model.children(runNode);
  await fx.next('workflow.completed', (e) => e.run.id === runId);
  sub.dispose();

  const touched = new Set(changes.flatMap((c) => [...c.nodes]));
  assert.ok(touched.has(runNode), 'task events refresh the run row (progress, state)');
  assert.ok(
    kids.every((k) => touched.has(k)),
    'and each task row they concern',
  );
  const runView = (await model.item(runNode, Date.now()))!;
  assert.equal(runView.icon.id, 'pass-filled');
  assert.match(runView.description, /2\/2 tasks/);
  assert.ok(
    kids.every((k) => model.task((k as { taskId: string }).taskId)?.state === 'completed'),
    'cached tasks are current without a query',
  );

  const removed = fx.next('workflow.removed');
  const cleared = await fx.engine.clearFinished();
  const change = model.apply(await removed);
  assert.equal(change.root, true);
  assert.equal(model.runCount, before.length + 1 - cleared);
  assert.equal(model.isEmpty, true);
});

test('responsive with 10,000 tasks in history: the root pages runs, a big run pages its tasks', async (t) => {
  const launchStart = performance.now();
  for (let i = 0; i < 99; i++) await fx.engine.launch({ workflow: noopWorkflow(`bulk-${i}`, 100) });
  await fx.engine.launch({ workflow: noopWorkflow('big', 100) });
  // 10,000 tasks take their time on a loaded machine: waited for as long as they need, up to a bound.
  await until('every run to finish', async () => (await fx.engine.list({ states: ['running'] })).total === 0, 180_000);
  const page = await fx.engine.list({ limit: 1 });
  assert.equal(page.total, 100);
  t.diagnostic(`launched and ran 100 runs × 100 tasks in ${(performance.now() - launchStart).toFixed(0)} ms`);

  // What the tree asks of the engine, row by row: paging means it never asks for more than a page.
  const asked = { runs: 0, statuses: 0 };
  const counting: TreeEngine = {
    list: async (options) => {
      const page = await fx.engine.list(options);
      asked.runs += page.runs.length;
      return page;
    },
    status: (id) => (asked.statuses++, fx.engine.status(id)),
    usage: (id) => fx.engine.usage(id),
    result: (id) => fx.engine.result(id),
  };
  const model = new RunTreeModel(counting, { pageSize: 50, taskPageSize: 40 });
  // CPU time, not wall time: other processes on a loaded machine do not count against the tree.
  let start = cpuMs();
  let wall = performance.now();
  const roots = await model.roots();
  const rows = await Promise.all(roots.map((n) => model.item(n, Date.now())));
  const rootMs = cpuMs() - start;
  const rootWallMs = performance.now() - wall;
  assert.equal(roots.length, 51, '50 runs and a "more" row');
  assert.equal(rows.at(-1)!.label, 'Load 50 more runs (50 older)…');
  assert.deepEqual(asked, { runs: 50, statuses: 0 }, 'one page of runs, and no run’s tasks before it is expanded');

  start = cpuMs();
  wall = performance.now();
  const children = await model.children(roots[0]!);
  await Promise.all(children.map((n) => model.item(n, Date.now())));
  const childMs = cpuMs() - start;
  const childWallMs = performance.now() - wall;
  assert.equal(children.length, 41, '40 tasks and a "more" row');
  assert.deepEqual(asked, { runs: 50, statuses: 1 }, 'expanding a run asks for that run alone');
  const more = children.at(-1)!;
  assert.equal(more.kind, 'more');
  assert.equal(model.loadMore(more as Extract<TreeNode, { kind: 'more' }>), roots[0], 'loading more tasks refreshes their run');
  assert.equal((await model.children(roots[0]!)).length, 81);

  model.loadMore(roots.at(-1) as Extract<TreeNode, { kind: 'more' }>);
  assert.equal((await model.roots()).length, 100, 'second page: all 100 runs, no more row');
  t.diagnostic(
    `root page of 50 runs: ${rootMs.toFixed(1)} ms CPU (${rootWallMs.toFixed(1)} ms wall); a 100-task run's first 40 rows: ${childMs.toFixed(1)} ms CPU (${childWallMs.toFixed(1)} ms wall)`,
  );
  assert.ok(rootMs < 250, `root page took ${rootMs} ms of CPU`);
  assert.ok(childMs < 250, `children took ${childMs} ms of CPU`);
});

test('a run’s pull request shows on its row when run.delivered arrives, without reloading the tree', async () => {
  // The pull request is held until the test has seen the row without it (a fixed 100 ms delay
  // could pass before the first look on a loaded machine).
  let publish!: () => void;
  const published = new Promise<void>((resolve) => (publish = resolve));
  const publishing = await openEngine({
    hooks: [{ runFinished: async () => (await published, { delivery: { pullRequest: { url: 'https://github.example/acme/widgets/pull/4', number: 4 } } }) }],
  });
  try {
    const model = new RunTreeModel(publishing.engine);
    await model.roots();
    const changes: TreeChange[] = [];
    const sub = publishing.engine.onEvent((e) => changes.push(model.apply(e)));
    const { runId } = await publishing.engine.launch({ workflow: workflow('name: publish\ntasks:\n  a:\n    run: "true"\n') });
    const runNode = model.nodeOf({ runId })!;
    await publishing.next('workflow.completed', (e) => e.run.id === runId);
    assert.doesNotMatch((await model.item(runNode, Date.now()))!.contextValue!, /:pr$/, 'no pull request yet');
    const before = changes.length;
    publish();
    await publishing.next('run.delivered', (e) => e.run.id === runId && e.run.finalized === true);
    sub.dispose();
    assert.ok(
      changes.slice(before).some((c) => c.nodes.has(runNode)),
      'the run row is refreshed',
    );
    assert.match((await model.item(runNode, Date.now()))!.contextValue!, /:pr$/, '"Open Pull Request" is offered');
  } finally {
    publish(); // the engine's close waits for the run's finalization
    await publishing.close();
  }
});

test('prefetch: the first page loads before the view asks, with one query, and a launch heard in between is in the rows', async () => {
  const older = await fx.engine.launch({ workflow: workflow('name: prefetched\ntasks:\n  a:\n    run: "true"\n') });
  await fx.next('workflow.completed', (e) => e.run.id === older.runId);
  let lists = 0;
  const counting: TreeEngine = {
    list: (options) => (lists++, fx.engine.list(options)),
    status: (id) => fx.engine.status(id),
    usage: (id) => fx.engine.usage(id),
    result: (id) => fx.engine.result(id),
  };
  const model = new RunTreeModel(counting);
  model.prefetch();
  model.prefetch(); // a second call joins the first
  const olderNode = await until('the prefetched page', () => model.nodeOf({ runId: older.runId }));
  assert.equal(lists, 1, 'loading started before anyone asked');
  assert.match((await model.item(olderNode, Date.now()))?.label ?? '', /prefetched/);

  const sub = fx.engine.onEvent((e) => model.apply(e));
  const launched = fx.next('workflow.launched');
  const newer = await fx.engine.launch({ workflow: workflow('name: after-prefetch\ntasks:\n  a:\n    run: "true"\n') });
  await launched;
  const roots = await model.roots();
  sub.dispose();
  assert.equal(lists, 1, 'roots() took the prefetched page');
  assert.deepEqual(await labels(model, roots.slice(0, 2)), ['after-prefetch', 'prefetched'], 'rows as they are when asked, not as loaded');
  assert.equal(roots[0], model.nodeOf({ runId: newer.runId }));
  await fx.next('workflow.completed', (e) => e.run.id === newer.runId);
  await model.roots();
  assert.equal(lists, 2, 'later calls query again');
});

test('the first page draws with one query: run rows never wait for their spending, and are drawn again when it comes', async () => {
  const spender = await fx.engine.launch({ workflow: workflow('name: spender\ntasks:\n  a:\n    run: "true"\n') });
  await fx.next('workflow.completed', (e) => e.run.id === spender.runId);
  const frugal = await fx.engine.launch({ workflow: workflow('name: frugal\ntasks:\n  a:\n    run: "true"\n') });
  await fx.next('workflow.completed', (e) => e.run.id === frugal.runId);
  const zero = { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costUsd: 0 };
  // Answers held until released, as a busy index worker would hold them.
  const asked: Array<{ id: string; answer: () => void }> = [];
  const holding: TreeEngine = {
    list: (options) => fx.engine.list(options),
    status: (id) => fx.engine.status(id),
    result: (id) => fx.engine.result(id),
    usage: (id) =>
      new Promise((resolve) => asked.push({ id, answer: () => resolve(id === spender.runId ? { ...zero, inputTokens: 1200, costUsd: 0.0042 } : zero) })),
  };
  const redrawn: TreeNode[] = [];
  const model = new RunTreeModel(holding, { onRowChanged: (node) => redrawn.push(node) });
  const roots = await model.roots();
  const spenderNode = model.nodeOf({ runId: spender.runId })!;
  const frugalNode = model.nodeOf({ runId: frugal.runId })!;
  // Before: each run row awaited its own usage query, so the first page waited for one answer per run.
  const first = await Promise.race([
    Promise.all(roots.map((n) => model.item(n, Date.now()))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a run row waited for its spending')), 5000)),
  ]);
  assert.equal(first.length, roots.length);
  assert.doesNotMatch(first[roots.indexOf(spenderNode)]!.description, /tokens/, 'drawn before its spending is known');
  assert.ok(
    asked.some((a) => a.id === spender.runId),
    'its spending was asked',
  );

  const answered = asked.splice(0);
  for (const a of answered) a.answer();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(redrawn, [spenderNode], 'only the row whose spending shows is drawn again');
  assert.match((await model.item(spenderNode, Date.now()))!.description, /1\.2k tokens · \$0\.004/);
  assert.equal(asked.length, 0, 'known and current: not asked again');
  await model.item(frugalNode, Date.now());
  assert.equal(asked.length, 0);

  // An event of the run makes its spending out of date: the row shows the last answer and asks again.
  model.apply({ type: 'workflow.resumed', run: (await fx.engine.status(spender.runId)).run });
  assert.match((await model.item(spenderNode, Date.now()))!.description, /1\.2k tokens/);
  assert.deepEqual(
    asked.map((a) => a.id),
    [spender.runId],
  );
  asked.splice(0)[0]!.answer();
});

test('a tick redraws an expanded running run’s live task rows but not the run’s own row, whose redraw would make VS Code re-list its tasks', async () => {
  const model = new RunTreeModel(fx.engine);
  await model.roots();
  const sub = fx.engine.onEvent((e) => model.apply(e));
  const { runId } = await fx.engine.launch({ workflow: workflow('name: ticking\ntasks:\n  busy:\n    run: sleep 30\n  gate:\n    wait: Ship it?\n') });
  const runNode = model.nodeOf({ runId })!;
  const tasks = await model.children(runNode);
  const byKey = async (key: string) => tasks[(await labels(model, tasks)).indexOf(key)]!;
  const busy = await byKey('busy');
  const gate = await byKey('gate');
  const state = (node: TreeNode) => model.task((node as { taskId: string }).taskId)?.state;
  await until('busy running and gate waiting', () => state(busy) === 'running' && state(gate) === 'waiting', 15_000);
  const ofRun = (nodes: TreeNode[]) => nodes.filter((n) => n.runId === runId);

  assert.deepEqual(ofRun(model.tickNodes(new Set())), [runNode, busy], 'collapsed: the run row ticks (a waiting task has no clock)');
  assert.deepEqual(ofRun(model.tickNodes(new Set([runId]))), [busy], 'expanded: only its running task row ticks');
  assert.deepEqual(ofRun(model.liveNodes()), [runNode, busy], 'both are still live');

  await fx.engine.cancel(runId);
  await fx.next('workflow.cancelled', (e) => e.run.id === runId);
  sub.dispose();
});
