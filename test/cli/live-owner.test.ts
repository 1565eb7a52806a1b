import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { makeRepo, sh } from '../results/git-fixtures.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, startOrchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/live-owner.test.ts ${skip} ***\n`);

const GATE = 'name: gate\ntasks:\n  write:\n    run: echo changed > out.txt && echo wrote\n  approve:\n    wait: approval\n    needs: write\n';
const SIDE = 'name: side\ntasks:\n  a:\n    run: echo side\n';

const json = (text: string) => JSON.parse(text);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('a foreground `orchestr8 run` in a git repository owns the state and serves the local API', { skip }, () => {
  const fixture = makeRepo();
  after(() => fixture.dispose());
  const repo = fixture.repo;
  const state = path.join(fixture.root, 'state');
  const o8 = (...args: string[]) => orchestr8(repo, ['--state', state, ...args]);
  fs.writeFileSync(path.join(fixture.root, 'gate.yaml'), GATE);
  fs.writeFileSync(path.join(fixture.root, 'side.yaml'), SIDE);
  let gateRun = '';
  let gateWorktree = '';
  let gateBranch = '';

  it('takes launches, cancels, detached runs and a signal from other CLI invocations through its API', { timeout: 90_000 }, async () => {
    const owner = startOrchestr8(repo, ['--state', state, '--json', 'run', path.join(fixture.root, 'gate.yaml')]);
    const discovery = path.join(state, 'api.json');
    try {
      await until(
        'api.json',
        () => fs.existsSync(discovery),
        20_000,
        () => owner.output().stderr,
      );
      assert.equal(fs.statSync(discovery).mode & 0o777, 0o600);
      const api = readJson(discovery);
      assert.equal(api.pid, owner.child.pid);
      assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(readJson(path.join(state, 'owner.lock')).pid, owner.child.pid);

      // launch: a second process, answered by the owner (no background owner is started).
      const launched = await o8('--json', 'launch', '--run', 'echo via-api');
      assert.equal(launched.code, 0, launched.stderr);
      const { taskIds } = json(launched.stdout);
      const result = await until('the launched task', async () => {
        const r = await o8('result', taskIds[0]);
        return r.code === 0 ? r.stdout : undefined;
      });
      assert.equal(result.trim(), 'via-api');

      // cancel through the API
      const sleeper = json((await o8('--json', 'launch', '--run', 'sleep 30')).stdout);
      const cancelled = await o8('--json', 'cancel', sleeper.taskIds[0]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.deepEqual(json(cancelled.stdout), { ok: true, id: sleeper.taskIds[0], action: 'cancel' });
      assert.equal(json((await o8('--json', 'status', sleeper.runId)).stdout).tasks[0].state, 'cancelled');

      // retry through the API: a task that fails until a flag file exists
      const flag = path.join(fixture.root, 'flag');
      const flaky = json((await o8('--json', 'launch', '--run', `test -f ${flag} && echo retried`)).stdout);
      await until('the first attempt to fail', async () => json((await o8('--json', 'status', flaky.runId)).stdout).tasks[0].state === 'failed');
      fs.writeFileSync(flag, '');
      const retried = await o8('retry', flaky.taskIds[0]);
      assert.equal(retried.code, 0, retried.stderr);
      const again = await until('the retried task', async () => {
        const r = await o8('result', flaky.taskIds[0]);
        return r.code === 0 ? r.stdout : undefined;
      });
      assert.equal(again.trim(), 'retried');

      // run --detach through the API
      const detached = await o8('--json', 'run', '--detach', path.join(fixture.root, 'side.yaml'));
      assert.equal(detached.code, 0, detached.stderr);
      const sideRun = json(detached.stdout).runId;
      await until('the detached run', async () => json((await o8('--json', 'status', sideRun)).stdout).run.state === 'completed');

      assert.equal(readJson(path.join(state, 'owner.lock')).pid, owner.child.pid, 'the same owner ran everything');
      assert.equal(fs.existsSync(path.join(state, 'serve.log')), false, 'no background owner was started');

      // signal through the API: the foreground run completes and exits 0
      gateRun = json((await o8('--json', 'status')).stdout).runs.find((r: { name: string }) => r.name === 'gate').id;
      const signalled = await o8('signal', `${gateRun}.approve`, 'yes');
      assert.equal(signalled.code, 0, signalled.stderr);
      const done = await owner.exited;
      assert.equal(done.code, 0, done.stderr);
      const final = json(done.stdout);
      assert.equal(final.run.state, 'completed');
      const delivery = final.run.delivery;
      gateWorktree = delivery.worktree;
      gateBranch = delivery.branch;
      assert.match(gateBranch, /^orchestr8\/gate-/);
      // No token, so no pull request: the branch is not pushed, and the run says so.
      assert.equal(delivery.pushedTo, undefined);
      assert.ok(
        delivery.notes.some((n: string) => /no GitHub token.*kept local, not pushed/.test(n)),
        JSON.stringify(delivery),
      );
      assert.equal(sh(repo, 'show', `${gateBranch}:out.txt`), 'changed');
      assert.equal(sh(fixture.remote, 'branch', '--list', gateBranch), '');
      assert.equal(fs.existsSync(path.join(repo, 'out.txt')), false, "the user's working tree is untouched");
      assert.equal(fs.existsSync(discovery), false, 'api.json is removed when the owner exits');
    } finally {
      owner.child.kill();
    }
  });

  it('cleanup removes worktrees and branches of merged or unchanged runs, keeps unmerged ones', { timeout: 60_000 }, async () => {
    assert.ok(gateWorktree && fs.existsSync(gateWorktree), 'the run above left its worktree');
    const first = await o8('--json', 'cleanup');
    assert.equal(first.code, 0, first.stderr);
    const outcome = json(first.stdout);
    assert.deepEqual(
      outcome.kept.map((k: { runId: string }) => k.runId),
      [gateRun],
    );
    assert.match(outcome.kept[0].reason, /not merged into main/);
    // Runs that changed nothing removed their worktrees and branches themselves when they finished.
    assert.deepEqual(outcome.removed, [], 'nothing else left to remove');
    const left = fs.readdirSync(path.join(state, 'worktrees')).filter((d) => !d.endsWith('-tasks'));
    assert.deepEqual(left, [gateRun], 'only the run that changed something keeps a worktree');
    assert.deepEqual(sh(repo, 'branch', '--list', '--format=%(refname:short)', 'orchestr8/*').split('\n'), [gateBranch]);
    assert.ok(fs.existsSync(gateWorktree));

    sh(repo, 'merge', '-q', '--no-edit', gateBranch);
    const second = await o8('--json', 'cleanup');
    assert.deepEqual(json(second.stdout), {
      removed: [{ runId: gateRun, worktree: gateWorktree, branch: gateBranch, branchDeleted: true, reason: 'merged' }],
      kept: [],
    });
    assert.equal(fs.existsSync(gateWorktree), false);
    assert.equal(sh(repo, 'branch', '--list', gateBranch), '', 'the merged branch is gone too');

    const text = await o8('cleanup');
    assert.equal(text.stdout.trim(), '0 run(s) cleaned up (0 branch(es) deleted), 0 kept');
  });
});

describe('the background owner of `launch` and `run --detach` serves the local API', { skip }, () => {
  it('takes later launches and a signal through it, runs in place outside git, and exits once idle', { timeout: 90_000 }, async () => {
    const project = tempDir('o8-bg-');
    const state = path.join(project, '.orchestr8', 'state');
    const o8 = (...args: string[]) => orchestr8(project, ['--state', state, ...args]);
    fs.writeFileSync(path.join(project, 'gate.yaml'), 'name: hold\ntasks:\n  approve:\n    wait: approval\n');

    const detached = await o8('--json', 'run', '--detach', 'gate.yaml');
    assert.equal(detached.code, 0, detached.stderr);
    const holdRun = json(detached.stdout).runId;
    const servePid = readJson(path.join(state, 'api.json')).pid;
    assert.equal(readJson(path.join(state, 'owner.lock')).pid, servePid);

    const launched = await o8('--json', 'launch', '--run', 'echo two');
    assert.equal(launched.code, 0, launched.stderr);
    const two = json(launched.stdout);
    assert.equal(readJson(path.join(state, 'api.json')).pid, servePid, 'the same background owner took the launch');
    const result = await until('the second task', async () => {
      const r = await o8('result', two.taskIds[0]);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(result.trim(), 'two');
    const { run } = json((await o8('--json', 'status', two.runId)).stdout);
    assert.equal(run.delivery.workspace, 'in-place');
    assert.match(run.delivery.notes[0], /is not in a git repository: the run works in place/);

    const signalled = await o8('signal', `${holdRun}.approve`);
    assert.equal(signalled.code, 0, signalled.stderr);
    await until('the background owner to exit', () => !fs.existsSync(path.join(state, 'owner.lock')) && !fs.existsSync(path.join(state, 'api.json')));
    assert.equal(json((await o8('--json', 'status', holdRun)).stdout).run.state, 'completed');
  });
});

describe('an owner without a local API', { skip }, () => {
  it('is named in the error, and nothing is launched or changed', { timeout: 60_000 }, async () => {
    const project = tempDir('o8-noapi-');
    const state = path.join(project, 'state');
    const engine = await Engine.open({ stateDir: state, cwd: project, command: 'test owner without api' });
    try {
      for (const args of [
        ['cancel', 'abc123abc123'],
        ['launch', '--run', 'echo hi'],
      ]) {
        const r = await orchestr8(project, ['--state', state, ...args]);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, new RegExp(`owned by pid ${process.pid} \\(test owner without api, .*serves no local API`));
      }
      assert.equal((await engine.list()).total, 0);
    } finally {
      await engine.close();
    }
  });
});

describe('a command with no owner there', { skip }, () => {
  it('signal: the command starts no task itself; a background owner runs what became ready', { timeout: 60_000 }, async () => {
    const project = tempDir('o8-noowner-');
    const state = path.join(project, 'state');
    const engine = await Engine.open({ stateDir: state, cwd: project });
    const { runId } = await engine.launch({
      workflow: parseWorkflow(
        'name: approve-then-ship\ntasks:\n  approve:\n    wait: approval\n  ship:\n    needs: approve\n    run: echo "shipped by pid $PPID"\n',
        'a.yaml',
      ),
    });
    await engine.close(); // nobody owns the state now; the run waits for its signal

    const signalled = await orchestr8(project, ['--state', state, 'signal', `${runId}.approve`, 'yes']);
    assert.equal(signalled.code, 0, signalled.stderr);
    const status = await until('the run to complete in the background', async () => {
      const s = json((await orchestr8(project, ['--state', state, '--json', 'status', runId])).stdout);
      return s.run.state === 'completed' ? s : undefined;
    });
    const ship = status.tasks.find((t: { key: string }) => t.key === 'ship');
    assert.equal(ship.attempt, 1, 'ship ran once: the signalling command did not start (and cut short) an attempt');
    assert.match((await orchestr8(project, ['--state', state, 'result', ship.id])).stdout, /^shipped by pid \d+/);
    await until('the background owner to exit', () => !fs.existsSync(path.join(state, 'owner.lock')));
  });
});

describe('CLI owners', { skip }, () => {
  it('run at least 8 tasks at once by default', { timeout: 60_000 }, async () => {
    const project = tempDir('o8-conc-');
    // Each task marks itself started and waits (30 s at most) until all 8 have: they end only if
    // all ran at once, however slowly a loaded machine starts them (a 2 s sleep each did not prove it).
    const started = tempDir('o8-conc-started-');
    const together = `touch ${started}/$ORCHESTR8_TASK_ID; for i in $(seq 600); do [ $(ls ${started} | wc -l) -ge 8 ] && exit 0; sleep 0.05; done; exit 1`;
    const tasks = Array.from({ length: 8 }, (_, i) => `  t${i}:\n    run: '${together}'`).join('\n');
    fs.writeFileSync(path.join(project, 'wide.yaml'), `name: wide\ntasks:\n${tasks}\n`);
    const r = await orchestr8(project, ['--state', path.join(project, 'state'), '--json', 'run', 'wide.yaml']);
    assert.equal(r.code, 0, r.stderr);
    const all = json(r.stdout).tasks as { startedAt: number; finishedAt: number }[];
    assert.equal(all.length, 8);
    assert.ok(Math.max(...all.map((t) => t.startedAt)) < Math.min(...all.map((t) => t.finishedAt)), 'all 8 were running at the same time');
  });

  it('`status | head -1`: a closed stdout ends the command quietly, with no EPIPE stack', { timeout: 60_000 }, async () => {
    const project = tempDir('o8-pipe-');
    const state = path.join(project, 'state');
    fs.writeFileSync(path.join(project, 'side.yaml'), SIDE);
    assert.equal((await orchestr8(project, ['--state', state, 'run', 'side.yaml'])).code, 0);
    const { spawn } = await import('node:child_process');
    const { CLI, cleanEnv } = await import('./cli-process.ts');
    for (const args of [['status', '--json'], ['status']]) {
      const child = spawn(process.execPath, [CLI, '--state', state, ...args], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first line
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(stderr, '');
      assert.equal(code, 0);
    }
  });
});
