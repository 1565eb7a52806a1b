import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { BullmqExecutor } from '../../src/core/queue/bullmq-executor.ts';
import { runSourceHook } from '../../src/core/queue/run-source-hook.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { BullmqCluster } from '../support/bullmq-cluster.ts';
import { redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
}

async function runToEnd(cluster: BullmqCluster, yaml: string, cwd: string) {
  const executor = new BullmqExecutor({ redisUrl: cluster.redis.url, reconcileMs: 1000 });
  const engine = await Engine.open({ stateDir: cluster.stateDir, cwd, executor, hooks: [runSourceHook()] });
  try {
    const done = new Promise<void>((resolve) => engine.onEvent((e) => (e.type === 'workflow.completed' || e.type === 'workflow.failed') && resolve()));
    const { runId } = await engine.launch({ workflow: parseWorkflow(yaml, 'checkout.yaml'), cwd });
    await done;
    return await engine.status(runId);
  } finally {
    await engine.close();
  }
}

test('a worker on "another machine" checks out the run source, works in a worktree and pushes the run branch', { skip, timeout: 90_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    // A real remote (a bare repository) and the project cloned from it, one commit pushed.
    const remote = path.join(cluster.root, 'remote.git');
    git(cluster.root, 'init', '-q', '--bare', '-b', 'main', remote);
    git(cluster.project, 'init', '-q', '-b', 'main');
    git(cluster.project, 'remote', 'add', 'origin', remote);
    writeFileSync(path.join(cluster.project, 'README.md'), 'base\n');
    git(cluster.project, 'add', '-A');
    git(cluster.project, 'commit', '-qm', 'base');
    git(cluster.project, 'push', '-q', 'origin', 'main');
    const base = git(cluster.project, 'rev-parse', 'HEAD');

    const workdir = path.join(cluster.root, 'worker-machine');
    mkdirSync(workdir);
    await cluster.worker('remote-worker', '--checkout', 'always', '--workdir', workdir);
    const status = await runToEnd(
      cluster,
      [
        'name: checkout',
        'tasks:',
        '  write:',
        '    run: echo "from $PWD" > made-by-worker.txt; cat README.md',
        '  read:',
        '    needs: [write]',
        '    run: cat made-by-worker.txt',
      ].join('\n'),
      cluster.project,
    );
    assert.equal(status.run.state, 'completed', status.tasks.map((t) => `${t.key}: ${t.error}`).join('; '));
    assert.deepEqual(
      status.tasks.map((t) => t.state),
      ['completed', 'completed'],
    );
    const source = status.run.delivery!.source!;
    assert.deepEqual(source, { remote, baseCommit: base, branch: `orchestr8/${status.run.id}` });
    const pushed = git(remote, 'show', `${source.branch}:made-by-worker.txt`);
    assert.match(pushed, new RegExp(`from ${workdir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/runs/${status.run.id}/write-1`));
    assert.equal(git(remote, 'rev-parse', `${source.branch}~1`), base);
    // The project folder on the coordinator was not touched.
    assert.equal(git(cluster.project, 'status', '--porcelain'), '');
    assert.equal(existsSync(path.join(cluster.project, 'made-by-worker.txt')), false);
  } finally {
    await cluster.dispose();
  }
});

test('a worker that cannot reach the run source fails the task once, with a clear message', { skip, timeout: 60_000 }, async () => {
  const cluster = await BullmqCluster.start();
  try {
    git(cluster.project, 'init', '-q', '-b', 'main');
    git(cluster.project, 'remote', 'add', 'origin', path.join(cluster.root, 'no-such-remote.git'));
    writeFileSync(path.join(cluster.project, 'README.md'), 'base\n');
    git(cluster.project, 'add', '-A');
    git(cluster.project, 'commit', '-qm', 'base');
    await cluster.worker('remote-worker', '--checkout', 'always', '--workdir', path.join(cluster.root, 'w'));
    const status = await runToEnd(cluster, ['name: noaccess', 'tasks:', '  t:', '    run: echo never', '    retries: 2'].join('\n'), cluster.project);
    const task = status.tasks[0]!;
    assert.equal(task.state, 'failed');
    assert.equal(task.attempt, 1, 'no access is not retried');
    assert.match(task.error!, /cannot clone the run's source .*no-such-remote\.git.*Give this machine read and push access/);
  } finally {
    await cluster.dispose();
  }
});
