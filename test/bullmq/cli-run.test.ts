import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();
const cli = fileURLToPath(new URL('../../src/cli/cli.ts', import.meta.url));
// The CLI runs in the project folder, where `tsx` cannot be resolved by name.
const tsx = import.meta.resolve('tsx');

function orchestr8(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, cli, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('orchestr8 run with ORCHESTR8_REDIS_URL: tasks run on the worker, every client reads the same run from the state', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    const worker = await cluster.worker('worker');
    const file = cluster.writeWorkflow(
      'hello',
      [
        'name: hello',
        'tasks:',
        '  who:',
        '    run: echo "worker pid $PPID"',
        '  greet:',
        '    needs: [who]',
        '    run: echo "hello from ${tasks.who.result}"',
      ].join('\n'),
    );
    const env = { ORCHESTR8_REDIS_URL: cluster.redis.url };
    const run = await orchestr8(cluster.project, env, '--state', cluster.stateDir, '--json', 'run', file);
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as { run: { id: string; state: string } };
    assert.equal(status.run.state, 'completed');
    // Another client (a read-only CLI call) sees the run and its result, produced on the worker process.
    const result = await orchestr8(cluster.project, {}, '--state', cluster.stateDir, 'result', `${status.run.id}.greet`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`hello from worker pid ${worker.pid}`));
    // A bad URL fails fast with a clear message, before anything is launched.
    const bad = await orchestr8(cluster.project, {}, '--state', cluster.stateDir, '--redis', 'redis://127.0.0.1:1', 'run', file);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
    // A wrong password says so, and never prints the password.
    const wrong = await orchestr8(cluster.project, {}, '--state', cluster.stateDir, '--redis', `redis://:not-it@127.0.0.1:${cluster.redis.port}`, 'run', file);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
    assert.doesNotMatch(wrong.stderr, /not-it/);
  } finally {
    await cluster.dispose();
  }
});
