import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();

test('a worker SIGKILLed mid-task: the task completes on the other worker and the run finishes', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    // Each execution appends its worker's pid ($PPID of the shell) and its own to runs.txt.
    // The first one works far longer than the test (it is killed with its worker); a re-run is quick.
    const workflow = cluster.writeWorkflow(
      'failover',
      [
        'name: failover',
        'tasks:',
        '  slow:',
        '    run: if [ -s runs.txt ]; then n=1; else n=120; fi; echo "$PPID $$" >> runs.txt; echo begin; sleep $n; echo "done by $PPID"',
        '  after:',
        '    needs: [slow]',
        '    run: echo "after ${tasks.slow.result}"',
      ].join('\n'),
    );
    const first = await cluster.worker('worker-1', '--concurrency', '1');
    const coordinator = await cluster.coordinator('coordinator', workflow);
    const runId = (await coordinator.waitFor(/^launched /)).split(' ')[1]!;
    await coordinator.waitFor(/^progress .*\.slow "begin/);
    const second = await cluster.worker('worker-2', '--concurrency', '1');
    await first.kill('SIGKILL');

    await coordinator.waitFor(new RegExp(`^finished ${runId} `), 60_000);
    await coordinator.exited;
    const status = await cluster.status(runId);
    assert.equal(status.run.state, 'completed');
    const slow = status.tasks.find((t) => t.key === 'slow')!;
    assert.equal(slow.state, 'completed');
    // BullMQ re-ran the job (stalled-job check); the engine did not spend another attempt on it.
    assert.equal(slow.attempt, 1);
    const runs = readFileSync(path.join(cluster.project, 'runs.txt'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    // The dead worker's shell outlives it (its own process group); nothing on another machine could reap it.
    try {
      process.kill(-Number(runs[0]![1]), 'SIGKILL');
    } catch {
      // already gone
    }
    assert.deepEqual(
      runs.map((r) => r[0]),
      [String(first.pid), String(second.pid)],
    );
    const after = status.tasks.find((t) => t.key === 'after')!;
    assert.equal(after.state, 'completed');
    assert.match(status.logs['after']!, new RegExp(`after begin\\s+done by ${second.pid}`));
    // Events of the worker's task reached the coordinator: its output is in the task log.
    assert.match(status.logs['slow']!, new RegExp(`done by ${second.pid}`));
  } finally {
    await cluster.dispose();
  }
});
