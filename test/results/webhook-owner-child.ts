// Child process for the webhook hand-over test: an owner with a webhook endpoint for run
// events that runs one task. The test arms ORCHESTR8_CRASH_AT=webhook.queueing, so it dies
// after the run's end is durable, before its workflow.completed reaches the outbox.
import { Engine } from '../../src/core/engine/engine.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';

const [stateDir, cwd, receiverUrl, secret] = process.argv.slice(2) as [string, string, string, string];
const results = setupResults({ stateDir, webhooks: { endpoints: [{ url: receiverUrl, events: ['workflow.completed', 'workflow.failed'] }], secret } });
const engine = await Engine.open({ stateDir, cwd, hooks: [results.hooks] });
results.startWebhooks(engine);
const { runId } = await engine.launch({ task: { action: { kind: 'run', run: 'echo done' } } });
process.stdout.write(`${JSON.stringify({ runId })}\n`);
setInterval(() => {}, 1000); // stays alive until it dies at the crash point
