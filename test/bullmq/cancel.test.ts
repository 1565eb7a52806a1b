import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { isProcessAlive } from '../../src/core/store/state-lock.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

const skip = redisMissingReason();

test('cancel and timeout reach the worker running the task: its process group is stopped', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  const executor = new BullmqExecutor({ redisUrl: cluster.redis.url });
  const engine = await Engine.open({ stateDir: cluster.stateDir, cwd: cluster.project, executor });
  try {
    await cluster.worker('worker', '--concurrency', '2');
    const sleeper = (name: string) => `echo $$ > ${name}.pid; sleep 30; touch ${name}.finished`;
    const { runId } = await engine.launch({
      workflow: parseWorkflow(
        ['name: stop', 'tasks:', '  cancelled:', `    run: ${sleeper('cancelled')}`, '  timed:', `    run: ${sleeper('timed')}`, '    timeout: 8s'].join('\n'),
        'stop.yaml',
      ),
      cwd: cluster.project,
    });
    const pidOf = (name: string) => Number(readFileSync(path.join(cluster.project, `${name}.pid`), 'utf8'));
    await until(
      'both tasks started on the worker',
      () => existsSync(path.join(cluster.project, 'cancelled.pid')) && existsSync(path.join(cluster.project, 'timed.pid')),
      60_000,
    );
    await engine.cancel(`${runId}.cancelled`);
    await until("the cancelled task's shell was stopped on the worker", () => !isProcessAlive(pidOf('cancelled')), 60_000);
    await until("the timed-out task's shell was stopped on the worker", () => !isProcessAlive(pidOf('timed')), 60_000);
    const status = await engine.status(runId);
    assert.deepEqual(
      status.tasks.map((t) => [t.key, t.state]),
      [
        ['cancelled', 'cancelled'],
        ['timed', 'failed'],
      ],
    );
    assert.match(status.tasks[1]!.error!, /timed out/);
    assert.equal(existsSync(path.join(cluster.project, 'cancelled.finished')), false);
    assert.equal(existsSync(path.join(cluster.project, 'timed.finished')), false);
  } finally {
    await engine.close();
    await cluster.dispose();
  }
});
