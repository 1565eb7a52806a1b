import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { taskBranchName, taskCommitMessage } from '../../src/core/git/task-worktrees.ts';
import type { TaskAction } from '../../src/core/model/workflow.ts';
import type { CrashPointName } from '../../src/core/util/crash-points.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeRepo, sh } from './git-fixtures.ts';
import { applyDelivery, ContextHooks, resultOf, runRecord, taskRecord } from './run-fixtures.ts';

/** Each task also counts its executions outside the repository: work already committed must not be done again. */
const flow = (counts: string) => `
name: Crash Merge
tasks:
  a: { run: "echo a > a.txt && echo run >> ${counts}/a" }
  b: { run: "echo b > b.txt && echo run >> ${counts}/b" }
  c: { run: "cat a.txt b.txt > c.txt && echo run >> ${counts}/c", needs: [a, b] }
`;

/** Runs the workflow in a child that SIGKILLs itself at `at`; resolves with the run id once it died. */
async function crashAt(at: string, stateDir: string, repo: string, FLOW: string): Promise<{ runId: string; signal: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'task-merge-crash-child.ts'), stateDir, repo, FLOW], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ORCHESTR8_CRASH_AT: at },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const signal = await new Promise<string | null>((r) => child.on('exit', (_code, s) => r(s)));
  clearTimeout(timer);
  return { runId: (JSON.parse(out.trim().split('\n')[0]!) as { runId: string }).runId, signal };
}

const points: Array<`${CrashPointName}${'' | `:${number}`}`> = [
  'task.committed',
  'merge.prepared',
  'merge.prepared:2',
  'merge.ref-updated',
  'merge.ref-updated:2',
];

for (const at of points) {
  test(`killed at ${at}: the run's branch is whole, and after a restart every task lands exactly once`, async () => {
    const fx = makeRepo({ remote: false });
    after(() => fx.dispose());
    const stateDir = tempDir('o8-state-');
    const counts = tempDir('o8-counts-');
    const { runId, signal } = await crashAt(at, stateDir, fx.repo, flow(counts));
    assert.equal(signal, 'SIGKILL', 'the child died at the crash point');

    // Whatever moment it died at, the run's branch holds whole tasks only: each commit with its own file.
    const branches = sh(fx.repo, 'branch', '--list', '--format=%(refname:short)', 'orchestr8/crash-merge-*').split('\n');
    const runBranch = branches.find((b) => !b.includes('--'))!;
    const landed = sh(fx.repo, 'log', '--no-merges', '--format=%s', `main..${runBranch}`);
    for (const subject of landed.split('\n').filter(Boolean)) {
      const key = subject.split(':')[0]!;
      assert.deepEqual(sh(fx.repo, 'log', '-1', '--format=', '--name-only', '-F', `--grep=${subject}`, runBranch).split('\n'), [`${key}.txt`]);
    }

    // Tasks whose work is committed somewhere (their own branch or the run's): these must not run again.
    const committed = sh(fx.repo, 'log', '--branches', '--no-merges', '--format=%s', '^main')
      .split('\n')
      .filter(Boolean)
      .map((s) => s.split(':')[0]!);
    assert.ok(committed.length > 0, 'the kill came after a commit');

    // As if a git of the dead owner died with it, inside the run's worktree: its index lock stays behind.
    const runWorktree = join(stateDir, 'worktrees', runId);
    writeFileSync(join(sh(runWorktree, 'rev-parse', '--absolute-git-dir'), 'index.lock'), '');

    const results = setupResults({ stateDir });
    const engine = await Engine.open({ stateDir, cwd: fx.repo, hooks: [results.hooks], concurrency: 4 });
    const attached = results.startWebhooks(engine);
    after(async () => {
      await attached.close();
      await engine.close();
    });
    const run = await runFinished(engine, runId);
    const { tasks } = await engine.status(runId);
    assert.equal(run.state, 'completed', tasks.map((t) => `${t.key}: ${t.state} ${t.error ?? ''}`).join('\n'));
    const subjects = sh(fx.repo, 'log', '--no-merges', '--format=%s', `main..${runBranch}`).split('\n').sort();
    assert.deepEqual(subjects, ['a: shell command', 'b: shell command', 'c: shell command'], 'each task committed exactly once');
    const worktree = (await engine.status(runId)).run.delivery!.worktree!;
    assert.equal(readFileSync(join(worktree, 'c.txt'), 'utf8'), 'a\nb\n');
    assert.equal(sh(worktree, 'status', '--porcelain'), '', "the run's worktree matches its branch again");
    assert.equal(sh(fx.repo, 'branch', '--list', `${runBranch}--*`), '', 'no task branch left');
    const executions = ['a', 'b', 'c'].map((k) => (existsSync(join(counts, k)) ? readFileSync(join(counts, k), 'utf8').split('\n').filter(Boolean).length : 0));
    for (const [i, key] of ['a', 'b', 'c'].entries()) {
      if (committed.includes(key)) assert.equal(executions[i], 1, `${key} had committed its work before the kill: not run again`);
      else assert.ok(executions[i]! >= 1);
    }
  });
}

/**
 * The ordering behind a flake of `merge.ref-updated:2`, forced: the owner dies right after moving the run's branch to
 * b's merge (its worktree not synced yet), and on the restart another task of the run commits in the run's worktree
 * before b's merge is resumed. That is `a`, whose merge had finished (its worktree and branch removed) but whose
 * completion was not durable yet, or any task sharing the run's worktree. Committing the stale checkout took b's file
 * out of the run's branch again, and c, made from that branch, ran without it.
 */
for (const first of ['a', 'share'] as const) {
  test(`killed at merge.ref-updated, then ${first === 'a' ? 'a merged task completes again' : "a task sharing the run's worktree completes"} first: b stays merged and c starts with it`, async () => {
    const fx = makeRepo({ remote: false });
    after(() => fx.dispose());
    const options = { worktreeRoot: join(tempDir('o8-state-'), 'worktrees') };
    const run = runRecord(fx.repo, {}, 'Crash Merge');
    const dead = new ContextHooks(options);
    const prepared = (await dead.prepareRun(run))!;
    applyDelivery(run, prepared.delivery!);
    const { branch, worktree } = run.delivery!;
    const task = (key: string, action: TaskAction = { kind: 'run', run: `echo ${key} > ${key}.txt` }) => ({
      ...taskRecord(run, key, action),
      state: 'running' as const,
    });
    const [a, b, c, share] = [task('a'), task('b'), task('c'), task('share', { kind: 'noop' })];

    // a and b start together; a merges in full, and b commits on its own branch.
    const placed = { a: (await dead.prepareTask(run, a))!.cwd!, b: (await dead.prepareTask(run, b))!.cwd! };
    writeFileSync(join(placed.a, 'a.txt'), 'a\n');
    writeFileSync(join(placed.b, 'b.txt'), 'b\n');
    await dead.taskCompleted(run, a, resultOf(a));
    sh(placed.b, 'add', '-A');
    sh(placed.b, 'commit', '-q', '-m', taskCommitMessage('b', 'shell command', '', b.id));
    // b's merge as mergeTaskBranch makes it, up to `merge.ref-updated`: the branch moved, the worktree not synced.
    const runHead = sh(fx.repo, 'rev-parse', branch!);
    const tree = sh(fx.repo, 'merge-tree', '--write-tree', runHead, taskBranchName(branch!, 'b'));
    const merge = sh(fx.repo, 'commit-tree', tree, '-p', runHead, '-p', taskBranchName(branch!, 'b'), '-m', "b: merge into the run's branch");
    sh(fx.repo, 'update-ref', '-m', 'orchestr8: merge', `refs/heads/${branch}`, merge, runHead);

    // The next owner: the first task to complete commits in the run's worktree (for a, found merged, nothing).
    const next = new ContextHooks(options);
    await next.prepareRun(run);
    if (first === 'a') assert.ok((await next.prepareTask(run, a))?.done, "a's work is found in the run's branch");
    await next.taskCompleted(run, first === 'a' ? a : share, resultOf(first === 'a' ? a : share));
    assert.equal(sh(fx.repo, 'show', `${branch}:b.txt`), 'b', "b's file is still in the run's branch");
    assert.equal(sh(fx.repo, 'log', '--format=%s', `${merge}..${branch}`), '', 'nothing was committed over the merge');
    assert.equal(sh(worktree!, 'status', '--porcelain'), '', "the run's worktree matches its branch");

    // b completes again (its merge found done), then c starts from the run's branch with both.
    assert.ok((await next.prepareTask(run, b))?.done);
    await next.taskCompleted(run, b, resultOf(b));
    const cwd = (await next.prepareTask(run, c))!.cwd!;
    assert.deepEqual([readFileSync(join(cwd, 'a.txt'), 'utf8'), readFileSync(join(cwd, 'b.txt'), 'utf8')], ['a\n', 'b\n']);
  });
}
