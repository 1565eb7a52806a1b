import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

const skip = redisMissingReason();

test('SIGTERM drains a worker: its running task finishes, it takes no new one, and exits 0', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    const workflow = cluster.writeWorkflow(
      'drain',
      [
        'name: drain',
        'tasks:',
        '  first:',
        '    run: echo begin; sleep 2; echo "first by $PPID"',
        '  second:',
        '    needs: [first]',
        '    run: echo "second by $PPID"',
      ].join('\n'),
    );
    const draining = await cluster.worker('draining');
    const coordinator = await cluster.coordinator('coordinator', workflow);
    const runId = (await coordinator.waitFor(/^launched /)).split(' ')[1]!;
    await coordinator.waitFor(/^progress .*\.first "begin/);
    draining.child.kill('SIGTERM');
    await coordinator.waitFor(/^completed .*\.first$/, 30_000);
    assert.equal(await draining.exited, 0);
    // `second` became ready while the first worker drained: its job waits in the queue (not active
    // under the worker that left), and its log below is written by the next worker.
    const waiting = () => cluster.redis.cli('LRANGE', 'bull:orchestr8:wait', '0', '-1').split('\n');
    await until(
      '`second` to wait in the queue for a worker',
      () => waiting().some((id) => id.startsWith(`${runId}.second@`)),
      15_000,
      () => waiting().join(', '),
    );
    assert.ok(!coordinator.lines.some((l) => /^completed .*\.second$/.test(l)), 'the draining worker took no new task');
    const next = await cluster.worker('next');
    await coordinator.waitFor(new RegExp(`^finished ${runId} `), 30_000);
    await coordinator.exited;
    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed');
    assert.match(status.logs['first']!, new RegExp(`first by ${draining.pid}`));
    assert.match(status.logs['second']!, new RegExp(`second by ${next.pid}`));
  } finally {
    await cluster.dispose();
  }
});
