import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();
const TASKS = 24;

test('Redis killed and restarted (appendonly yes) mid-run: nothing is lost and every task runs once', { skip, timeout: 120_000 }, async () => {
  const cluster = await BullmqCluster.start({ appendonly: true, appendfsync: 'always' });
  try {
    // Independent tasks, 4 at a time, each leaving one line per execution in its own file.
    const lines = ['name: many', 'concurrency: 4', 'tasks:'];
    for (let i = 0; i < TASKS; i++) lines.push(`  t${i}:`, `    run: echo x >> t${i}.count; sleep 0.4; echo out-${i}`);
    const workflow = cluster.writeWorkflow('many', lines.join('\n'));
    // Locks outlast the outage; an outage longer than the lock re-runs in-flight tasks (at-least-once, see docs/scale-out.md).
    await cluster.worker('worker-1', '--concurrency', '2', '--lock-duration', '10000');
    await cluster.worker('worker-2', '--concurrency', '2', '--lock-duration', '10000');
    const coordinator = await cluster.coordinator('coordinator', workflow);
    const runId = (await coordinator.waitFor(/^launched /)).split(' ')[1]!;
    await coordinator.waitFor(/^completed .*\.t5$/, 60_000);

    await cluster.redis.restart('SIGKILL', 1000);

    await coordinator.waitFor(new RegExp(`^finished ${runId} `), 90_000);
    await coordinator.exited;
    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed');
    for (const task of status.tasks) {
      assert.equal(task.state, 'completed', `${task.key}: ${task.error}`);
      assert.equal(task.attempt, 1, `${task.key} took ${task.attempt} attempts`);
      const executions = readFileSync(path.join(cluster.project, `${task.key}.count`), 'utf8');
      assert.equal(executions, 'x\n', `${task.key} ran ${executions.length / 2} times`);
    }
    assert.equal(status.tasks.length, TASKS);
    for (const task of status.tasks) assert.match(status.logs[task.key]!, new RegExp(`out-${task.key.slice(1)}\\b`));
  } finally {
    await cluster.dispose();
  }
});
