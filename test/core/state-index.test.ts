import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import type { StateBackend } from '../../src/core/store/backend.ts';
import { MemoryBackend } from '../../src/core/store/backend.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import type { StoreRecord } from '../../src/core/store/store-records.ts';
import { openEngine, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const run = (id: string, state: RunRecord['state'] = 'running', createdAt = 1000): RunRecord => ({
  id,
  name: `run ${id}`,
  inputs: {},
  state,
  single: false,
  cwd: '/tmp',
  createdAt,
});
const task = (runId: string, key: string, order: number, state: TaskRecord['state'] = 'queued'): TaskRecord =>
  ({ id: `${runId}.${key}`, runId, key, order, state, attempt: 1, updatedAt: 2000, action: { kind: 'shell', command: 'true' } }) as unknown as TaskRecord;

test('every query answered after a commit resolved sees it, though the database is in another thread', async () => {
  const store = await StateStore.openOwner(tempDir());
  try {
    for (let i = 0; i < 50; i++) {
      // No await between the acknowledgement and the question: the answer must include it.
      await store.commit([
        { t: 'run', run: run(`r${i}`) },
        { t: 'event', event: { type: 'workflow.launched', at: i, runId: `r${i}` } },
      ]);
      assert.equal((await store.index.getRun(`r${i}`))?.name, `run r${i}`);
      assert.equal((await store.index.listRuns(1, 0)).total, i + 1);
    }
    assert.equal(await store.index.lastSeq(), 100);
  } finally {
    await store.close();
  }
});

test('a query asked for a seq the worker does not hold yet waits for the batch that brings it', async () => {
  const store = await StateStore.openOwner(tempDir());
  try {
    await store.commit([{ t: 'run', run: run('before') }]);
    // Asked before seq 2 is even written: answered once it is applied, never from the older state.
    const early = store.index.query('getRun', ['after'], 2);
    const plain = store.index.getRun('after');
    await store.commit([{ t: 'run', run: run('after') }]);
    assert.equal((await early)?.name, 'run after');
    assert.equal(await plain, undefined, 'a query without a later seq answers at once, as of what was acknowledged when asked');
  } finally {
    await store.close();
  }
});

test("a failing query rejects with the worker's message and the index goes on answering", async () => {
  const store = await StateStore.openOwner(tempDir());
  try {
    await assert.rejects(store.index.query('nonsense' as never, []), /no query nonsense/);
    await store.commit([{ t: 'run', run: run('ok') }]);
    assert.equal((await store.index.getRun('ok'))?.state, 'running');
  } finally {
    await store.close();
  }
});

/** The same history, for both backends. */
const history: StoreRecord[][] = [
  [
    { t: 'run', run: run('a', 'running', 1) },
    { t: 'task', task: task('a', 'one', 0) },
    { t: 'task', task: task('a', 'two', 1) },
    { t: 'event', event: { type: 'workflow.launched', at: 1, runId: 'a' } },
  ],
  [
    { t: 'task', task: task('a', 'one', 0, 'completed') },
    { t: 'result', result: { taskId: 'a.one', runId: 'a', output: 'hi', createdAt: 3 } },
    { t: 'event', event: { type: 'task.completed', at: 3, taskId: 'a.one', runId: 'a' } },
  ],
  [
    { t: 'run', run: run('b', 'completed', 2) },
    {
      t: 'usage',
      usage: {
        taskId: 'a.one',
        runId: 'a',
        turn: 1,
        model: 'm',
        inputTokens: 5,
        outputTokens: 7,
        cacheWriteTokens: 0,
        cacheReadTokens: 0,
        costUsd: 0.5,
        createdAt: 4,
      },
    },
  ],
  [
    { t: 'delete-runs', runIds: ['b'] },
    { t: 'event', event: { type: 'workflow.removed', at: 5, detail: 'b' } },
  ],
];

async function answers(backend: StateBackend) {
  for (const batch of history) await backend.commit(batch);
  const q = backend.index;
  return {
    runs: await q.listRuns(10, 0),
    tasks: await q.getTasks('a'),
    result: await q.getResult('a.one'),
    usage: await q.usage({ runId: 'a' }),
    removed: await q.getRun('b'),
    prefix: await q.runIdsByPrefix('a'),
    replay: await q.replayEvents(0),
    lastSeq: await q.lastSeq(),
  };
}

test('the in-memory twin answers every query as the durable store does, and keeps no state past close', async () => {
  const durable = await StateStore.openOwner(tempDir());
  const memory = await MemoryBackend.open();
  try {
    const expected = await answers(durable);
    assert.equal(expected.tasks.length, 2);
    assert.equal(expected.replay.events.length, 3);
    assert.deepEqual(await answers(memory), expected);
  } finally {
    await durable.close();
    await memory.close();
  }
  await assert.rejects(memory.commit([{ t: 'run', run: run('late') }]), /closed/);
});

test('the in-memory twin hands out copies: changing an answer or a committed record changes nothing stored', async () => {
  const memory = await MemoryBackend.open();
  try {
    const record = run('x');
    await memory.commit([{ t: 'run', run: record }]);
    record.name = 'changed after commit';
    const answer = (await memory.index.getRun('x'))!;
    answer.name = 'changed in the answer';
    assert.equal((await memory.index.getRun('x'))?.name, 'run x');
  } finally {
    await memory.close();
  }
});

test('an engine on the in-memory twin runs a workflow end to end and writes no state files', async () => {
  const { engine, stateDir } = await openEngine({ backend: await MemoryBackend.open() });
  const { runId, taskIds } = await engine.launch({
    workflow: workflow('name: twin\ntasks:\n  a: { run: echo a }\n  b: { run: "echo got ${tasks.a.result}", needs: a }\n'),
  });
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(taskIds[1]!))?.output.trim(), 'got a');
  assert.equal((await engine.list()).total, 1);
  assert.deepEqual(
    fs.readdirSync(stateDir).filter((name) => name !== 'logs'),
    [],
    'no journal, snapshot or lock',
  );
});
