import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

const skip = redisMissingReason();

/** a → b (counts its executions; ends once the test creates `release`) → c */
function chain(cluster: BullmqCluster): string {
  return cluster.writeWorkflow(
    'chain',
    [
      'name: chain',
      'tasks:',
      '  a:',
      '    run: echo a',
      '  b:',
      '    needs: [a]',
      '    run: echo x >> b.count; echo b-begin; while [ ! -e release ]; do sleep 0.1; done; echo b-end; touch b.done',
      '  c:',
      '    needs: [b]',
      '    run: echo "c after ${tasks.b.result}"',
    ].join('\n'),
  );
}

test('coordinator killed mid-run and restarted while the task still runs: it re-attaches and the run finishes', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    await cluster.worker('worker');
    const first = await cluster.coordinator('coordinator-1', chain(cluster));
    const runId = (await first.waitFor(/^launched /)).split(' ')[1]!;
    await first.waitFor(/^progress .*\.b "b-begin/);
    await first.kill('SIGKILL');

    const second = await cluster.coordinator('coordinator-2');
    assert.equal(existsSync(path.join(cluster.project, 'b.done')), false);
    writeFileSync(path.join(cluster.project, 'release'), '');
    await second.waitFor(new RegExp(`^finished ${runId} `), 60_000);
    await second.exited;

    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed');
    const b = status.tasks.find((t) => t.key === 'b')!;
    assert.equal(b.attempt, 1, 'the restart cost no attempt');
    assert.equal(readFileSync(path.join(cluster.project, 'b.count'), 'utf8'), 'x\n', 'b ran exactly once');
    assert.match(status.logs['c']!, /c after b-begin\s+b-end/);
    // The second coordinator heard b's later output live from the worker.
    assert.ok(
      second.lines.some((l) => /^progress .*\.b "b-end/.test(l)),
      second.lines.join('\n'),
    );
  } finally {
    await cluster.dispose();
  }
});

test('coordinator killed, task finishes while no coordinator runs: the restarted one collects the result', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    await cluster.worker('worker');
    const first = await cluster.coordinator('coordinator-1', chain(cluster));
    const runId = (await first.waitFor(/^launched /)).split(' ')[1]!;
    await first.waitFor(/^progress .*\.b "b-begin/);
    await first.kill('SIGKILL');
    writeFileSync(path.join(cluster.project, 'release'), '');
    // Finished while no coordinator runs: the worker has moved b's job to BullMQ's completed set.
    const completed = () => cluster.redis.cli('ZRANGE', 'bull:orchestr8:completed', '0', '-1').split('\n');
    await until(
      'b’s job to complete in Redis',
      () => completed().some((id) => id.startsWith(`${runId}.b@`)),
      30_000,
      () => completed().join(', '),
    );

    const second = await cluster.coordinator('coordinator-2');
    await second.waitFor(new RegExp(`^finished ${runId} `), 60_000);
    await second.exited;

    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed');
    assert.deepEqual(
      status.tasks.map((t) => [t.key, t.state, t.attempt]),
      [
        ['a', 'completed', 1],
        ['b', 'completed', 1],
        ['c', 'completed', 1],
      ],
    );
    assert.equal(readFileSync(path.join(cluster.project, 'b.count'), 'utf8'), 'x\n', 'b ran exactly once');
    assert.match(status.logs['c']!, /c after b-begin\s+b-end/);
  } finally {
    await cluster.dispose();
  }
});
