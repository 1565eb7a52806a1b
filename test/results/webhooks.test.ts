import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import { signWebhookBody, verifyWebhookSignature } from '../../src/core/notifications/webhook-signature.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/core/notifications/webhooks.ts';
import { runFinished, workflow } from '../support/engine-harness.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
import { WebhookReceiver } from './webhook-receiver.ts';
import { AskingRunner } from '../support/asking-runner.ts';

const SECRET = 'whsec_test_secret';

function dispatcherFor(engine: Engine, options: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({
    outbox: engine.webhookOutbox(),
    runOf: async (id) => (await engine.status(id)).run,
    secret: SECRET,
    backoffMs: 20,
    maxDelayMs: 100,
    ...options,
  });
  d.listen(engine);
  d.start();
  return d;
}

test('signature is sha256=<hex HMAC of the body> and verification rejects any change', () => {
  const body = '{"id":"evt_1","type":"task.completed"}';
  // Known answer, computed independently: printf '%s' "$body" | openssl dgst -sha256 -hmac whsec_test_secret
  assert.equal(signWebhookBody(body, SECRET), 'sha256=dc436d1f112e5fb8716144ef22b7b837cdf35633a8ca6523aa29277a4ef8a351');
  assert.ok(verifyWebhookSignature(body, signWebhookBody(body, SECRET), SECRET));
  assert.ok(!verifyWebhookSignature(body.replace('1', '2'), signWebhookBody(body, SECRET), SECRET));
  assert.ok(!verifyWebhookSignature(body, signWebhookBody(body, 'other'), SECRET));
  assert.ok(!verifyWebhookSignature(body, undefined, SECRET));
});

test('receiver down for a while, engine restarted meanwhile: each event is delivered later, once per event id', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  await receiver.stop(); // the port is known, nobody listens
  after(() => receiver.stop());
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');

  const first = await Engine.open({ stateDir, cwd });
  const d1 = dispatcherFor(first, { endpoints: [{ url: receiver.url }] });
  const { runId } = await first.launch({
    workflow: workflow(`
name: hooks
tasks:
  a: { run: echo a }
  b: { run: echo b, needs: a }
`),
  });
  assert.equal((await runFinished(first, runId)).state, 'completed');
  await d1.flush();
  const outbox = first.webhookOutbox();
  await until('failed attempts', async () => (await outbox.due(Date.now() + 60_000, 50)).every((d) => d.attempts >= 2));
  const pending = await outbox.due(Date.now() + 60_000, 50);
  assert.deepEqual(pending.map((d) => d.event).sort(), ['task.completed', 'task.completed', 'workflow.completed']);
  assert.ok(
    pending.every((d) => d.state === 'pending' && /ECONNREFUSED|fetch failed|connect/i.test(d.lastError ?? '')),
    pending.map((d) => d.lastError).join(),
  );
  assert.equal(receiver.received.length, 0);
  await d1.close();
  await first.close();

  // The receiver comes back; a new process finds the outbox on disk and delivers it.
  await receiver.start();
  const second = await Engine.open({ stateDir, cwd });
  after(() => second.close());
  const d2 = dispatcherFor(second, { endpoints: [{ url: receiver.url }] });
  after(() => d2.close());
  await until('three events', () => receiver.counts().size === 3);
  // Every delivery marked delivered, then the dispatcher closed: any wrong re-send has been made by now.
  await until('the outbox to mark all three delivered', async () => (await second.webhookDeliveries('delivered')).length === 3);
  await d2.close();
  assert.deepEqual([...receiver.counts().values()], [1, 1, 1], 'once per event id');
  assert.equal(receiver.rejected, 0);
  const types = receiver.received.map((r) => r.type).sort();
  assert.deepEqual(types, ['task.completed', 'task.completed', 'workflow.completed']);
  const done = receiver.received.find((r) => r.type === 'workflow.completed')!;
  assert.equal((done.body['run'] as { id: string }).id, runId);
  assert.equal((done.body['run'] as { link: string }).link, `vscode://orchestr8.orchestr8/run/${runId}`, 'the link that opens the run in VS Code');
  assert.equal(done.headers['x-orchestr8-event-id'], done.id);
  assert.match(String(done.headers['x-orchestr8-timestamp']), /^\d{10}$/);
  const taskDone = receiver.received.find((r) => r.type === 'task.completed' && (r.body['task'] as { key: string }).key === 'a')!;
  assert.equal((taskDone.body['result'] as { output: string }).output.trim(), 'a');
  assert.equal((taskDone.body['task'] as { link: string }).link, `vscode://orchestr8.orchestr8/task/${runId}.a`);
  const delivered = await second.webhookDeliveries('delivered');
  assert.equal(delivered.length, 3);
  assert.ok(delivered.every((d) => d.deliveredAt && d.attempts >= 3));
});

test('a receiver that refuses (wrong secret) is retried with backoff, then dead-lettered and visible to readers', async () => {
  const receiver = new WebhookReceiver('a-different-secret');
  await receiver.start();
  after(() => receiver.stop());
  const stateDir = tempDir('o8-state-');
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-') });
  const d = dispatcherFor(engine, { maxAttempts: 3 });
  // Per-workflow endpoint (the `webhooks:` option); no global one.
  const { runId } = await engine.launch({
    workflow: workflow(`
name: failing
webhooks: ["${receiver.url}"]
tasks:
  boom: { run: exit 3 }
`),
  });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  await until('dead letters', async () => (await engine.webhookDeliveries('dead')).length === 2);
  await d.close();
  assert.equal(receiver.rejected, 6, 'two events, three attempts each');
  await engine.close();

  const reader = await ReadOnlyEngine.open(stateDir);
  after(() => reader.close());
  const dead = await reader.webhookDeliveries('dead');
  assert.deepEqual(dead.map((x) => x.event).sort(), ['task.failed', 'workflow.failed']);
  assert.ok(dead.every((x) => x.attempts === 3 && x.lastError === 'HTTP 401' && x.deliveredAt === undefined));
  assert.equal(JSON.parse(dead.find((x) => x.event === 'task.failed')!.body).error.includes('exit'), true);
});

test('without a signing secret nothing is sent: the delivery is dead-lettered with the reason', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  after(() => receiver.stop());
  const engine = await Engine.open({ stateDir: tempDir('o8-state-'), cwd: tempDir('o8-cwd-') });
  after(() => engine.close());
  const d = dispatcherFor(engine, { secret: undefined, endpoints: [{ url: receiver.url, events: ['pr.opened'] }] });
  const { runId } = await engine.launch({ task: { action: { kind: 'noop' } } });
  const run = await runFinished(engine, runId);
  d.pullRequestOpened(run, { url: 'https://github.example/a/b/pull/7', number: 7, draft: false });
  d.pullRequestOpened(run, { url: 'https://github.example/a/b/pull/7', number: 7, draft: false }); // heard twice: one event
  await d.flush();
  await d.close();
  const dead = await engine.webhookDeliveries('dead');
  assert.equal(dead.length, 1, 'only pr.opened is subscribed, and once');
  assert.equal(dead[0]!.event, 'pr.opened');
  assert.match(dead[0]!.lastError!, /never sent unsigned/);
  assert.equal(receiver.received.length + receiver.rejected, 0);
});

test('events made durable but never queued (the process died in between) are queued by the next process, once', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  after(() => receiver.stop());
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const first = await Engine.open({ stateDir, cwd });
  const withHistory = (engine: Engine) => dispatcherFor(engine, { endpoints: [{ url: receiver.url }], history: engine });
  const d1 = withHistory(first);
  const a = await first.launch({ workflow: workflow('name: heard\ntasks:\n  t: { run: echo a }\n') });
  await runFinished(first, a.runId);
  await d1.flush();
  await d1.close(); // from here on nobody queues: the window between the engine's commit and the outbox
  assert.equal(receiver.received.length, 2);
  const b = await first.launch({ workflow: workflow('name: missed\ntasks:\n  ok: { run: echo b }\n  bad: { run: exit 1 }\n') });
  await runFinished(first, b.runId);
  await first.close();

  const second = await Engine.open({ stateDir, cwd });
  after(() => second.close());
  const d2 = withHistory(second);
  after(() => d2.close());
  await until('missed events', () => receiver.received.length >= 5);
  await d2.flush();
  const missed = receiver.received
    .slice(2)
    .map((r) => `${r.type}:${(r.body['run'] as { id: string }).id === b.runId}`)
    .sort();
  assert.deepEqual(missed, ['task.completed:true', 'task.failed:true', 'workflow.failed:true']);
  assert.deepEqual(
    [...receiver.counts().values()].filter((n) => n !== 1),
    [],
    'the run heard before is not sent again',
  );
});

test('an engine closed under the dispatcher: no crash, no busy loop, errors logged', async () => {
  const engine = await Engine.open({ stateDir: tempDir('o8-state-'), cwd: tempDir('o8-cwd-') });
  const errors: string[] = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  // The dispatcher's time moves only when the test says: a busy loop shows as errors piling up per step.
  const clock = new ManualClock();
  const d = dispatcherFor(engine, { endpoints: [{ url: 'http://127.0.0.1:9/hook' }], logger, clock });
  const { runId } = await engine.launch({ task: { action: { kind: 'noop' } } });
  const run = await runFinished(engine, runId);
  await d.flush();
  await engine.close();
  d.handle({ type: 'workflow.completed', run: { ...run, finishedAt: Date.now() } });
  await d.flush();
  assert.ok(errors.length >= 1, 'the failure is logged');
  for (let step = 0; step < 10; step++) {
    clock.advance(30);
    await new Promise((r) => setImmediate(r)); // a pass on the closed store fails at once
  }
  await d.close();
  assert.ok(errors.length <= 4, `errors: ${errors.join(' / ')}`);
});

test('a task that asks and a run that pauses are webhook events: someone has to act', async () => {
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  after(() => receiver.stop());
  const engine = await Engine.open({ stateDir: tempDir('o8-state-'), cwd: tempDir('o8-cwd-'), runners: [new AskingRunner()] });
  after(() => engine.close());
  const d = dispatcherFor(engine, { endpoints: [{ url: receiver.url }] });
  after(() => d.close());
  const { runId } = await engine.launch({ task: { action: { kind: 'agent', agent: 'any', prompt: 'deploy' } } });
  await until('the request is delivered', () => receiver.received.some((r) => r.body.type === 'task.needs-input'));
  const asked = receiver.received.find((r) => r.body.type === 'task.needs-input')!.body as { task: { id: string }; request: { call: string } };
  assert.equal(asked.task.id, `${runId}.task`);
  assert.equal(asked.request.call, 'Bash(make deploy)');
  await engine.pause(runId, 'lunch');
  await until('the pause is delivered', () => receiver.received.some((r) => r.body.type === 'workflow.paused'));
  const paused = receiver.received.find((r) => r.body.type === 'workflow.paused')!.body as { pause: { reason: string } };
  assert.equal(paused.pause.reason, 'lunch');
});
