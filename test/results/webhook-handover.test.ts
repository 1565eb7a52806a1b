import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { webhookEventId } from '../../src/core/notifications/webhooks.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { nextEvent } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

const SECRET = 'whsec_handover';

test('a CLI-like owner that closes right after its run ends sends workflow.completed before close resolves', async () => {
  // A receiver that takes a moment to answer: task.completed is still in flight when the run ends.
  const receiver = new WebhookReceiver(SECRET, 150);
  await receiver.start();
  after(() => receiver.stop());
  const stateDir = tempDir('o8-state-');
  const results = setupResults({ stateDir, webhooks: { endpoints: [receiver.url], secret: SECRET } });
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-'), hooks: [results.hooks] });
  const attachment = results.startWebhooks(engine);
  const { runId } = await engine.launch({ task: { action: { kind: 'run', run: 'echo done' } } });
  await nextEvent(engine, 'workflow.completed', (e) => e.run.id === runId);
  const started = Date.now();
  await attachment.close(); // what the CLI does once its last run ended, then it exits
  const closeMs = Date.now() - started;
  await engine.close();
  assert.deepEqual(
    receiver.received.map((r) => r.type),
    ['task.completed', 'workflow.completed'],
    "the run's last word is sent before the owner goes",
  );
  assert.ok(closeMs < 5000, `close took ${closeMs} ms`);
  const reader = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-') });
  after(() => reader.close());
  assert.deepEqual(await reader.webhookDeliveries('pending'), [], 'nothing left pending for a next owner that may never come');
});

test('an owner that dies after its run ended: the next owner sends workflow.completed exactly once, with the event seq as its key', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  after(() => receiver.stop());
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'webhook-owner-child.ts'), stateDir, cwd, receiver.url, SECRET], {
    env: { ...process.env, ORCHESTR8_CRASH_AT: 'webhook.queueing' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
  assert.equal(signal, 'SIGKILL', 'the owner died at the crash point');
  const { runId } = JSON.parse(out.trim()) as { runId: string };
  assert.equal(receiver.received.length, 0);

  const owner = async () => {
    const results = setupResults({
      stateDir,
      webhooks: { endpoints: [{ url: receiver.url, events: ['workflow.completed', 'workflow.failed'] }], secret: SECRET },
    });
    const engine = await Engine.open({ stateDir, cwd, hooks: [results.hooks] });
    const attachment = results.startWebhooks(engine);
    return { engine, attachment };
  };
  const next = await owner();
  assert.equal((await next.engine.status(runId)).run.state, 'completed');
  const completed = (await next.engine.eventsAfter(0)).events.find((e) => e.type === 'workflow.completed')!;
  await next.attachment.close();
  await next.engine.close();
  assert.deepEqual(
    receiver.received.map((r) => [r.type, (r.body['run'] as { id: string }).id]),
    [['workflow.completed', runId]],
  );

  // And once only: the owner after that finds nothing left to send.
  const third = await owner();
  await third.attachment.close();
  await third.engine.close();
  assert.equal(receiver.received.length, 1);
  const again = await owner();
  after(() => again.engine.close());
  after(() => again.attachment.close());
  assert.ok(completed.type === 'workflow.completed' && completed.seq);
  const [delivery] = await again.engine.webhookDeliveries('delivered');
  assert.equal(
    delivery?.eventId,
    webhookEventId('workflow.completed', completed.seq, runId, completed.run.finishedAt),
    'the key is derived from the event seq',
  );
  assert.equal(delivery?.eventId, receiver.received[0]!.id);
  assert.equal(receiver.received[0]!.headers['x-orchestr8-event-id'], delivery?.eventId);
});
