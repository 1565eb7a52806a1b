import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openEngine, runFinished } from '../support/engine-harness.ts';

test('every durable event carries the journal seq of its stored event, and eventsAfter replays them from there', async () => {
  const { engine, events } = await openEngine();
  const { runId } = await engine.launch({ task: { action: { kind: 'noop' } } });
  await runFinished(engine, runId);
  const heard = events.filter((e) => e.type !== 'task.progress');
  assert.ok(heard.length >= 4, `heard ${heard.map((e) => e.type).join(', ')}`);
  const seqs = heard.map((e) => e.seq);
  assert.ok(
    seqs.every((s) => typeof s === 'number'),
    `every event has a seq: ${JSON.stringify(seqs)}`,
  );
  assert.deepEqual(
    [...seqs].sort((a, b) => a! - b!),
    seqs,
    'seqs increase in firing order',
  );

  const { events: replayed, next } = await engine.eventsAfter(0);
  assert.deepEqual(
    replayed.map((e) => [e.seq, e.type]),
    heard.map((e) => [e.seq, e.type]),
  );
  assert.ok(replayed.every((e) => e.replayed));
  assert.equal(next, seqs[seqs.length - 1]);
  const completed = replayed.find((e) => e.type === 'task.completed');
  assert.equal(completed?.type === 'task.completed' && completed.task.state, 'completed');

  const cut = seqs[1]!;
  assert.deepEqual(
    (await engine.eventsAfter(cut)).events.map((e) => e.seq),
    seqs.filter((s) => s! > cut),
  );
});
