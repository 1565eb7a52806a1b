import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { CrashPointName } from '../../src/core/util/crash-points.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeRepo, sh } from './git-fixtures.ts';

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
