import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { cleanupWorktrees } from '../../src/core/git/worktree-cleanup.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { finalized, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { FakeGitHub } from './fake-github-server.ts';
import { makeRepo, sh } from './git-fixtures.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

const TOKEN = 'ghp_engine_test';
const SECRET = 'whsec_engine_test';

const FLOW = `
name: Fix Flaky Test
pull_request: { draft: true, title: "Fix the flaky test" }
tasks:
  edit: { run: "echo fixed > fix.txt" }
  check: { run: "test -f fix.txt && echo checked", needs: edit }
  docs: { run: "echo '# notes' > NOTES.md", needs: check }
`;

async function open(stateDir: string, cwd: string, github: FakeGitHub, receiver: WebhookReceiver) {
  const results = setupResults({
    stateDir,
    github: { token: TOKEN, baseUrl: github.url, repo: 'acme/widgets' },
    webhooks: { endpoints: [receiver.url], secret: SECRET, backoffMs: 20, maxDelayMs: 100 },
  });
  const engine = await Engine.open({ stateDir, cwd, hooks: [results.hooks] });
  const attached = results.startWebhooks(engine);
  return {
    engine,
    webhooks: attached.webhooks,
    close: async () => {
      await attached.close();
      await engine.close();
    },
  };
}

async function setup() {
  const fx = makeRepo();
  after(() => fx.dispose());
  const github = new FakeGitHub({ token: TOKEN, repos: { 'acme/widgets': fx.remote } });
  await github.start();
  after(() => github.close());
  const receiver = new WebhookReceiver(SECRET);
  await receiver.start();
  after(() => receiver.stop());
  return { fx, github, receiver, stateDir: tempDir('o8-state-') };
}

test('a workflow run in a repository: own worktree, a commit per task that changed files, push, one draft PR, signed webhooks', async () => {
  const { fx, github, receiver } = await setup();
  const stateDir = join(fx.repo, '.orchestr8', 'state'); // the CLI's default: inside the project
  writeFileSync(join(fx.repo, 'README.md'), 'work in progress by the user\n'); // a dirty tree
  const o8 = await open(stateDir, fx.repo, github, receiver);
  after(() => o8.close());
  const { runId } = await o8.engine.launch({ workflow: workflow(FLOW) });
  assert.equal((await runFinished(o8.engine, runId)).state, 'completed');
  const run = await finalized(o8.engine, runId);
  const o = run.delivery!;

  assert.match(String(o.branch), new RegExp(`^orchestr8/fix-flaky-test-${runId.slice(0, 7)}$`));
  assert.equal(o.worktree, join(stateDir, 'worktrees', runId));
  assert.equal(run.cwd, o.worktree);
  assert.ok(!existsSync(join(fx.repo, 'fix.txt')), "the user's tree got nothing");
  assert.equal(readFileSync(join(fx.repo, 'README.md'), 'utf8'), 'work in progress by the user\n');
  const status = sh(fx.repo, 'status', '--porcelain', '--untracked-files=all').split('\n');
  assert.ok(
    status.some((l) => /^ ?M README.md$/.test(l)),
    status.join('|'),
  );
  assert.deepEqual(
    status.filter((l) => l.includes('worktrees/')),
    [],
    "run worktrees stay out of the user's git status",
  );
  const log = sh(fx.remote, 'log', '--format=%s', `main..refs/heads/${String(o.branch)}`);
  assert.deepEqual(log.split('\n'), ['docs: shell command', 'edit: shell command'], 'check changed nothing: no commit');
  assert.equal(github.pulls.length, 1);
  assert.equal(github.pulls[0]!.draft, true);
  assert.equal(github.pulls[0]!.title, 'Fix the flaky test');
  assert.match(github.pulls[0]!.body, /\| check \| shell command \| completed \|/);
  assert.equal(o.pullRequest?.url, 'https://github.example/acme/widgets/pull/1');

  await o8.webhooks.flush();
  const types = receiver.received.map((r) => r.type).sort();
  assert.deepEqual(types, ['pr.opened', 'task.completed', 'task.completed', 'task.completed', 'workflow.completed']);
  const pr = receiver.received.find((r) => r.type === 'pr.opened')!;
  assert.deepEqual(pr.body['pullRequest'], { url: 'https://github.example/acme/widgets/pull/1', number: 1, draft: true });
});

test('run.delivered is heard once the pull request is on disk, and carries its URL', async () => {
  const { fx, github, receiver, stateDir } = await setup();
  const o8 = await open(stateDir, fx.repo, github, receiver);
  after(() => o8.close());
  const heard: { event: RunRecord; onDisk: RunRecord | undefined }[] = [];
  const reads: Promise<void>[] = [];
  o8.engine.onEvent((e) => {
    if (e.type !== 'run.delivered' || !e.run.delivery?.pullRequest) return;
    // What another process (a second window, the CLI) reads from the state folder at this moment.
    reads.push(
      ReadOnlyEngine.open(stateDir).then(async (reader) => {
        try {
          heard.push({ event: e.run, onDisk: (await reader.status(e.run.id)).run });
        } finally {
          await reader.close();
        }
      }),
    );
  });
  const { runId } = await o8.engine.launch({ workflow: workflow(FLOW) });
  await runFinished(o8.engine, runId);
  await o8.engine.whenFinalized(runId);
  await Promise.all(reads);
  assert.equal(heard.length, 1, 'announced once');
  assert.deepEqual(heard[0]!.event.delivery?.pullRequest, { url: 'https://github.example/acme/widgets/pull/1', number: 1 });
  assert.equal(heard[0]!.event.finalized, true);
  assert.deepEqual(heard[0]!.onDisk?.delivery?.pullRequest, heard[0]!.event.delivery?.pullRequest, 'durable before it was announced');
  assert.equal(github.pulls.length, 1);
});

for (const failure of ['down', 'drop'] as const) {
  test(`engine stops between push and PR creation (GitHub ${failure === 'down' ? 'unreachable' : 'created it, answer lost'}), restart → exactly one PR`, async () => {
    const { fx, github, receiver, stateDir } = await setup();
    const first = await open(stateDir, fx.repo, github, receiver);
    github.failNextCreate = failure;
    const { runId } = await first.engine.launch({ workflow: workflow(FLOW) });
    await runFinished(first.engine, runId);
    // The publish step failed after the push: the run stays unfinalized, the push is recorded.
    const end = Date.now() + 10_000;
    let run = (await first.engine.status(runId)).run;
    while (!run.delivery?.pullRequestError && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      run = (await first.engine.status(runId)).run;
    }
    assert.equal(run.finalized, false);
    assert.equal(run.delivery!.pushedTo, 'origin');
    assert.ok(sh(fx.remote, 'branch', '--list', 'orchestr8/*').includes(String(run.delivery!.branch)));
    assert.equal(github.pulls.length, failure === 'drop' ? 1 : 0);
    await first.close();

    const second = await open(stateDir, fx.repo, github, receiver);
    after(() => second.close());
    const done = await finalized(second.engine, runId);
    assert.equal(github.pulls.length, 1, 'exactly one pull request');
    assert.equal(done.delivery?.pullRequest?.url, 'https://github.example/acme/widgets/pull/1');
    assert.ok(github.requests.filter((r) => r.startsWith('POST')).length <= 2);
    await second.webhooks.flush();
    assert.deepEqual(
      [...receiver.counts().values()].filter((n) => n !== 1),
      [],
      'each event once',
    );
    assert.equal(receiver.received.filter((r) => r.type === 'pr.opened').length, 1);
  });
}

test('no token: the branch stays local (push: true pushes it) and the run says why there is no PR; in-place and no-change runs make no PR', async () => {
  const { fx, stateDir } = await setup();
  const results = setupResults({ stateDir });
  const engine = await Engine.open({ stateDir, cwd: fx.repo, hooks: [results.hooks] });
  const attached = results.startWebhooks(engine);
  after(async () => {
    await attached.close();
    await engine.close();
  });
  const a = await engine.launch({ workflow: workflow(FLOW) });
  await runFinished(engine, a.runId);
  const ra = await finalized(engine, a.runId);
  assert.ok(
    ra.delivery!.notes!.some((n) => /no GitHub token.*kept local, not pushed/.test(n)),
    JSON.stringify(ra.delivery),
  );
  assert.equal(ra.delivery!.noPullRequest, 'no GitHub token');
  assert.equal(ra.delivery!.commits, 2); // edit and docs; check writes nothing
  assert.equal(ra.delivery!.pushedTo, undefined);
  assert.equal(sh(fx.remote, 'branch', '--list', String(ra.delivery!.branch)), '', 'no pull request will be opened: nothing is pushed');

  // The workflow asks for the push: the branch goes to origin, still without a pull request.
  const p = await engine.launch({ workflow: workflow(`push: true\n${FLOW}`) });
  await runFinished(engine, p.runId);
  const rp = await finalized(engine, p.runId);
  assert.equal(rp.delivery!.pushedTo, 'origin');
  assert.ok(sh(fx.remote, 'branch', '--list', 'orchestr8/*').includes(String(rp.delivery!.branch)));
  assert.ok(
    rp.delivery!.notes!.some((n) => /no GitHub token.*branch pushed to origin/.test(n)),
    JSON.stringify(rp.delivery),
  );

  const b = await engine.launch({ workflow: workflow('name: gate\nworkspace: in-place\ntasks:\n  t: { run: "echo ok > gate.txt" }\n') });
  await runFinished(engine, b.runId);
  const rb = await finalized(engine, b.runId);
  assert.equal(rb.delivery!.workspace, 'in-place');
  assert.equal(rb.cwd, fx.repo);
  assert.ok(existsSync(join(fx.repo, 'gate.txt')));

  const c = await engine.launch({ workflow: workflow('name: look\ntasks:\n  t: { run: "ls" }\n') });
  await runFinished(engine, c.runId);
  const rc = await finalized(engine, c.runId);
  assert.equal(rc.delivery!.changed, false);
  assert.equal(sh(fx.remote, 'branch', '--list', String(rc.delivery!.branch)), '');
  // A run that changed nothing leaves neither branch nor worktree.
  assert.equal(sh(fx.repo, 'branch', '--list', String(rc.delivery!.branch)), '');
  assert.ok(!existsSync(String(rc.delivery!.worktree)));
  assert.ok(!sh(fx.repo, 'worktree', 'list').includes(c.runId));

  // Cleanup: the unmerged run's worktree stays until asked or merged.
  const first = await cleanupWorktrees(engine);
  assert.deepEqual(
    first.removed.map((r) => r.runId),
    [],
  );
  assert.deepEqual(first.kept.map((r) => r.runId).sort(), [a.runId, p.runId].sort());
  sh(fx.repo, 'merge', '-q', '--ff-only', String(ra.delivery!.branch));
  const second = await cleanupWorktrees(engine);
  assert.deepEqual(
    second.removed.map((r) => [r.runId, r.reason]),
    [[a.runId, 'merged']],
  );
  assert.ok(!existsSync(String(ra.delivery!.worktree)));
});

for (const when of ['before', 'after'] as const) {
  test(`process killed (SIGKILL) while GitHub handles the PR request (${when} creating it), restart → exactly one PR`, async () => {
    const { spawn } = await import('node:child_process');
    const { fx, github, receiver, stateDir } = await setup();
    const killed = new Promise<void>((resolve) => {
      github.holdNextCreate = {
        when,
        onHeld: () => {
          child.kill('SIGKILL');
          resolve();
        },
      };
    });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'results-crash-child.ts'), stateDir, fx.repo, github.url, TOKEN, receiver.url, SECRET, FLOW],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await Promise.race([killed, new Promise((_, reject) => setTimeout(() => reject(new Error(`no PR request; child said: ${out}`)), 30_000))]);
    await exited;
    const runId = (JSON.parse(out.trim().split('\n')[0]!) as { runId: string }).runId;
    assert.equal(github.pulls.length, when === 'after' ? 1 : 0);

    const o8 = await open(stateDir, fx.repo, github, receiver);
    after(() => o8.close());
    const run = await finalized(o8.engine, runId);
    assert.equal(run.state, 'completed');
    assert.equal(github.pulls.length, 1, 'exactly one pull request');
    assert.equal(run.delivery?.pullRequest?.url, 'https://github.example/acme/widgets/pull/1');
    assert.equal(sh(fx.remote, 'rev-parse', `refs/heads/${String(run.delivery!.branch)}`), sh(String(run.delivery!.worktree), 'rev-parse', 'HEAD'));
    await o8.webhooks.flush();
    // Every event arrives. (Delivery is at least once: a kill between a 2xx and recording it
    // may resend an event, with the same id, for the receiver to drop.)
    const byType = new Map<string, Set<string>>();
    for (const r of receiver.received) byType.set(r.type, (byType.get(r.type) ?? new Set()).add(r.id));
    assert.deepEqual(Object.fromEntries([...byType].map(([t, ids]) => [t, ids.size])), { 'task.completed': 3, 'workflow.completed': 1, 'pr.opened': 1 });
  });
}
