/**
 * Entry point for tests: a coordinating engine in BullMQ mode, in a process of its own
 * so a test can SIGKILL it. Usage: coordinator-process.ts <stateDir> <cwd> <redisUrl> [workflow.yaml]
 * With a workflow it launches it; either way it drives every unfinished run to its end,
 * printing `launched <runId>` and `finished <runId> <state>` lines.
 */
import { Engine } from '../../src/core/engine/engine.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { runSourceHook } from '../../src/core/queue/run-source-hook.ts';
import { consoleLogger } from '../../src/core/util/logger.ts';
import { loadWorkflowFile } from '../../src/core/workflow/parse-workflow.ts';

const [stateDir, cwd, redisUrl, workflowFile] = process.argv.slice(2);
if (!stateDir || !cwd || !redisUrl) throw new Error('usage: coordinator-process.ts <stateDir> <cwd> <redisUrl> [workflow.yaml]');
const logger = consoleLogger('coordinator', process.env.O8_VERBOSE === '1');
const executor = new BullmqExecutor({ redisUrl, logger, reconcileMs: 1000 });
await executor.waitUntilReady();
const engine = await Engine.open({ stateDir, cwd, executor, hooks: [runSourceHook(logger)], logger });
const say = (line: string) => process.stdout.write(`${line}\n`);
engine.onEvent((event) => {
  if (event.type === 'task.started') say(`started ${event.task.id} attempt ${event.task.attempt}`);
  if (event.type === 'task.progress') say(`progress ${event.taskId} ${JSON.stringify(event.text)}`);
  if (event.type === 'task.completed') say(`completed ${event.task.id}`);
  if (event.type === 'task.retrying') say(`retrying ${event.task.id} ${JSON.stringify(event.error)}`);
  if (event.type === 'task.failed') say(`failed ${event.task.id} ${JSON.stringify(event.error)}`);
  if (event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled') {
    say(`finished ${event.run.id} ${event.run.state}`);
  }
});
if (workflowFile) {
  const { runId } = await engine.launch({ workflow: await loadWorkflowFile(workflowFile), cwd });
  say(`launched ${runId}`);
}
say('ready');
const stop = () => void engine.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
// Bounded: a run that never ends fails the test, with a reason, instead of hanging it.
for (const deadline = Date.now() + 120_000; ; await new Promise((r) => setTimeout(r, 100))) {
  const { runs } = await engine.list({ states: ['running'] });
  if (runs.length === 0) break;
  if (Date.now() > deadline) {
    process.stderr.write(`coordinator gave up: ${runs.map((r) => r.id).join(', ')} still running after 120 s\n`);
    process.exit(3);
  }
}
say('idle');
await engine.close();
process.exit(0);
