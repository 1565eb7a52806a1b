import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();

test('Redis restarted WITHOUT appendonly loses its jobs: the coordinator queues them again and the run still finishes', {
  skip,
  timeout: 120_000,
}, async () => {
  const cluster = await BullmqCluster.start({ appendonly: false });
  try {
    const lines = ['name: lossy', 'tasks:'];
    for (let i = 0; i < 6; i++) lines.push(`  t${i}:`, `    run: echo begin-${i}; sleep 1; echo out-${i}`);
    const workflow = cluster.writeWorkflow('lossy', lines.join('\n'));
    await cluster.worker('worker', '--concurrency', '2', '--lock-duration', '10000');
    const coordinator = await cluster.coordinator('coordinator', workflow);
    const runId = (await coordinator.waitFor(/^launched /)).split(' ')[1]!;
    await coordinator.waitFor(/^progress .*\.t0 "begin/);
    // Every job (waiting and active) is gone after this. The worker and the coordinator are frozen
    // meanwhile: otherwise they reconnect, and write, before the test can look at what Redis kept.
    for (const p of cluster.processes) await p.freeze();
    try {
      await cluster.redis.restart('SIGKILL', 500);
      assert.equal(cluster.redis.cli('DBSIZE'), '0');
    } finally {
      for (const p of cluster.processes) p.thaw();
    }

    await coordinator.waitFor(new RegExp(`^finished ${runId} `), 90_000);
    await coordinator.exited;
    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed', status.tasks.map((t) => `${t.key}: ${t.state} ${t.error ?? ''}`).join('; '));
    for (const t of status.tasks) assert.equal(t.attempt, 1, `${t.key}: the lost job was queued again under the same attempt`);
    assert.ok(coordinator.errorOutput.includes('is gone from Redis; queueing it again'), coordinator.errorOutput);
  } finally {
    await cluster.dispose();
  }
});
