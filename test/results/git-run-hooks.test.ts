import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type GitRunHooks, runBranchName } from '../../src/core/git/git-run-hooks.ts';
import { cleanupRunWorktrees } from '../../src/core/git/worktree-cleanup.ts';
import { PullRequestPublisher } from '../../src/core/github/pull-requests.ts';
import type { RunRecord, TaskRecord } from '../../src/core/model/records.ts';
import { FakeGitHub } from './fake-github-server.ts';
import { makeRepo, sh, type RepoFixture } from './git-fixtures.ts';
import { applyDelivery, ContextHooks, hookContext, resultOf, runRecord, taskRecord } from './run-fixtures.ts';

const TOKEN = 'ghp_test_token';

/** Hooks wired the way the engine wires them: returned and recorded deliveries merged into the run. */
function hooksFor(fx: RepoFixture, github?: FakeGitHub, runs: RunRecord[] = [], tasks: TaskRecord[] = []): ContextHooks {
  const options = {
    worktreeRoot: join(fx.root, 'state', 'worktrees'),
    ...(github ? { publisher: new PullRequestPublisher({ token: TOKEN, baseUrl: github.url }) } : {}),
    repo: 'acme/widgets',
  };
  return new ContextHooks(options, hookContext(runs, tasks));
}

/** Like the engine's finalize: the returned delivery is merged into the run's. */
async function finish(hooks: ContextHooks, run: RunRecord): Promise<void> {
  const out = await hooks.runFinished(run, []);
  if (out?.delivery) applyDelivery(run, out.delivery);
}

async function prepare(hooks: GitRunHooks, run: RunRecord): Promise<string> {
  const prepared = await hooks.prepareRun(run);
  if (prepared?.delivery) applyDelivery(run, prepared.delivery);
  if (prepared?.cwd) run.cwd = prepared.cwd; // as the engine does
  return prepared?.cwd ?? run.cwd;
}

describe('git run hooks (real repositories, bare remote, fake GitHub over HTTP)', () => {
  let fx: RepoFixture;
  let github: FakeGitHub;
  beforeEach(async () => {
    fx = makeRepo();
    github = new FakeGitHub({ token: TOKEN, repos: { 'acme/widgets': fx.remote } });
    await github.start();
  });
  afterEach(async () => {
    await github.close();
    fx.dispose();
  });

  test('what prepareRun decided is kept for stale records only until the run finishes: the hooks do not grow with every run', async () => {
    const run = runRecord(fx.repo);
    const stale = structuredClone(run); // a record read before prepareRun, as some engines hand later hooks
    const hooks = hooksFor(fx, undefined, [run]);
    const cwd = await prepare(hooks, run);
    writeFileSync(join(cwd, 'one.txt'), '1\n');
    const one = taskRecord(run, 'one', { kind: 'wait' });
    await hooks.taskCompleted(stale, one, resultOf(one));
    assert.deepEqual(sh(cwd, 'log', '--format=%s', 'main..HEAD').split('\n'), ['one: wait'], 'the stale record reached the run through what the hooks kept');

    run.state = 'failed';
    run.finishedAt = Date.now();
    await finish(hooks, run);
    writeFileSync(join(cwd, 'two.txt'), '2\n');
    const two = taskRecord(run, 'two', { kind: 'wait' });
    await hooks.taskCompleted(stale, two, resultOf(two));
    assert.deepEqual(sh(cwd, 'log', '--format=%s', 'main..HEAD').split('\n'), ['one: wait'], 'forgotten: nothing is kept for a finished run');
    // The run's own record still says where everything is (a Continue… starts from it).
    await hooks.taskCompleted(run, two, resultOf(two));
    assert.equal(sh(cwd, 'log', '-1', '--format=%s'), 'two: wait');
  });

  test('a run works in its own worktree, commits per task, pushes and opens one pull request', async () => {
    // The user's tree is dirty: the run must neither see nor touch it.
    writeFileSync(join(fx.repo, 'README.md'), '# project\nuser edit in progress\n');
    const run = runRecord(fx.repo, { pull_request: { draft: true } });
    const runs = [run];
    const tasks: TaskRecord[] = [];
    const hooks = hooksFor(fx, github, runs, tasks);
    const cwd = await prepare(hooks, run);

    assert.notEqual(cwd, fx.repo);
    assert.equal(run.delivery!.branch, runBranchName(run));
    assert.match(runBranchName(run), /^orchestr8\/fix-bug-[0-9a-f]{7}$/);
    assert.equal(sh(cwd, 'rev-parse', '--abbrev-ref', 'HEAD'), run.delivery!.branch);
    assert.equal(readFileSync(join(cwd, 'README.md'), 'utf8'), '# project\n', 'worktree starts from HEAD, not the dirty tree');
    // Preparing again (a restart) reuses the same worktree.
    assert.equal(await prepare(hooks, run), cwd);

    writeFileSync(join(cwd, 'fix.ts'), 'export const fixed = true;\n');
    const edit = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'fix it' });
    await hooks.taskCompleted(run, edit, resultOf(edit));
    const check = taskRecord(run, 'check', { kind: 'run', run: 'true' });
    await hooks.taskCompleted(run, check, resultOf(check)); // changed nothing: no commit
    writeFileSync(join(cwd, 'fix.test.ts'), 'test\n');
    const tests = taskRecord(run, 'tests', { kind: 'agent', agent: 'tester', prompt: 'add tests' });
    await hooks.taskCompleted(run, tests, resultOf(tests));
    tasks.push(edit, check, tests);

    const log = sh(cwd, 'log', '--format=%s', `main..HEAD`).split('\n');
    assert.deepEqual(log, ['tests: agent tester', 'edit: agent coder']);
    assert.equal(readFileSync(join(fx.repo, 'README.md'), 'utf8'), '# project\nuser edit in progress\n', 'user edit untouched');
    assert.equal(sh(fx.repo, 'status', '--porcelain'), 'M README.md');

    run.state = 'completed';
    run.finishedAt = Date.now();
    await finish(hooks, run);
    const branch = run.delivery!.branch!;
    assert.equal(sh(fx.remote, 'rev-parse', `refs/heads/${branch}`), sh(cwd, 'rev-parse', 'HEAD'), 'branch pushed to the bare remote');
    assert.equal(github.pulls.length, 1);
    const pr = github.pulls[0]!;
    assert.equal(pr.head, branch);
    assert.equal(pr.base, 'main');
    assert.equal(pr.draft, true);
    assert.match(pr.body, /\| edit \| agent coder \| completed \|/);
    assert.match(pr.body, /Tokens: 1200 in, 340 out/);
    assert.match(pr.body, /Cost: \$0\.0123/);
    assert.match(pr.body, /Open the run in VS Code: `vscode:\/\/orchestr8\.orchestr8\/run\/[0-9a-f]+`/);
    assert.equal(run.delivery?.pullRequest?.url, 'https://github.example/acme/widgets/pull/1');

    // Finishing again (a restart) opens no second pull request.
    await finish(hooksFor(fx, github, runs), run);
    assert.equal(github.pulls.length, 1);
  });

  test('a run that changed nothing makes no commit, no push and no pull request, and leaves no branch or worktree', async () => {
    const run = runRecord(fx.repo);
    const hooks = hooksFor(fx, github, [run]);
    const cwd = await prepare(hooks, run);
    const t = taskRecord(run, 'look', { kind: 'run', run: 'ls' });
    await hooks.prepareTask(run, { ...t, state: 'running' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'completed';
    await finish(hooks, run);
    assert.ok(!existsSync(cwd), 'worktree removed');
    assert.equal(sh(fx.repo, 'branch', '--list', 'orchestr8/*'), '', 'no branch (run or task) left');
    assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1);
    assert.equal(sh(fx.remote, 'branch', '--list', 'orchestr8/*'), '');
    assert.equal(github.pulls.length, 0);
    assert.equal(run.delivery!.changed, false);
    assert.ok(run.delivery!.notes!.some((n) => n.includes('no pull request')));
  });

  test('a failed run keeps its branch locally and pushes nothing', async () => {
    const run = runRecord(fx.repo);
    const hooks = hooksFor(fx, github, [run]);
    const cwd = await prepare(hooks, run);
    writeFileSync(join(cwd, 'half.txt'), 'half done\n');
    const t = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'x' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'failed';
    await finish(hooks, run);
    assert.equal(sh(fx.remote, 'branch', '--list', 'orchestr8/*'), '');
    assert.equal(github.pulls.length, 0);
    assert.ok(run.delivery!.notes!.some((n) => n.includes('not pushed')));
  });

  test('workspace: in-place runs on the project folder and commits nothing', async () => {
    const run = runRecord(fx.repo, { workspace: 'in-place' });
    const hooks = hooksFor(fx, github, [run]);
    assert.equal(await prepare(hooks, run), fx.repo);
    writeFileSync(join(fx.repo, 'x.txt'), 'x\n');
    const t = taskRecord(run, 'gate', { kind: 'run', run: 'true' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'completed';
    await finish(hooks, run);
    assert.equal(sh(fx.repo, 'rev-list', '--count', 'HEAD'), '1');
    assert.equal(run.delivery!.workspace, 'in-place');
    assert.equal(github.pulls.length, 0);
  });

  test('a folder outside any repository runs in place and says so', async () => {
    const outside = join(fx.root, 'state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(outside, { recursive: true });
    const run = runRecord(outside);
    const hooks = hooksFor(fx, github, [run]);
    assert.equal(await prepare(hooks, run), outside);
    assert.equal(run.delivery!.workspace, 'in-place');
    assert.match(run.delivery!.notes![0]!, /not in a git repository/);
  });

  test('a repository git cannot use runs in place and the note says what git said', async () => {
    const { mkdirSync } = await import('node:fs');
    const broken = join(fx.root, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, '.git'), 'garbage\n'); // a damaged worktree link
    const run = runRecord(broken);
    assert.equal(await prepare(hooksFor(fx, github, [run]), run), broken);
    assert.equal(run.delivery!.workspace, 'in-place');
    assert.match(run.delivery!.notes![0]!, /git failed in .*invalid gitfile format/);
  });

  test('a sub-folder of the project keeps its place inside the worktree', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(fx.repo, 'pkg'));
    writeFileSync(join(fx.repo, 'pkg', 'a.txt'), 'a\n');
    sh(fx.repo, 'add', '-A');
    sh(fx.repo, 'commit', '-q', '-m', 'pkg');
    const run = runRecord(join(fx.repo, 'pkg'));
    const cwd = await prepare(hooksFor(fx, github, [run]), run);
    assert.equal(cwd, join(run.delivery!.worktree!, 'pkg'));
    assert.ok(existsSync(join(cwd, 'a.txt')));
  });

  test('a project folder the repository ignores (or never committed) runs in place and says why', async () => {
    const { mkdirSync } = await import('node:fs');
    writeFileSync(join(fx.repo, '.gitignore'), 'scratch/\n');
    sh(fx.repo, 'add', '.gitignore');
    sh(fx.repo, 'commit', '-q', '-m', 'ignore scratch');
    for (const folder of ['scratch/proj', 'fresh']) {
      mkdirSync(join(fx.repo, folder), { recursive: true });
      writeFileSync(join(fx.repo, folder, 'a.txt'), 'a\n');
      const run = runRecord(join(fx.repo, folder));
      assert.equal(await prepare(hooksFor(fx, github, [run]), run), join(fx.repo, folder), `${folder} runs where it is`);
      assert.equal(run.delivery!.workspace, 'in-place');
      assert.match(run.delivery!.notes![0]!, /is not committed in the repository/);
    }
    assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1, 'no worktree was made');
  });

  test('an existing branch of the same name is left alone: the run takes the next free name', async () => {
    const run = runRecord(fx.repo);
    sh(fx.repo, 'branch', runBranchName(run));
    const cwd = await prepare(hooksFor(fx, github, [run]), run);
    assert.equal(run.delivery!.branch, `${runBranchName(run)}-2`);
    assert.equal(sh(cwd, 'rev-parse', '--abbrev-ref', 'HEAD'), `${runBranchName(run)}-2`);
    assert.ok(run.delivery!.notes![0]!.includes('already existed'));
  });

  test('no remote: the branch stays local and the run says so', async () => {
    sh(fx.repo, 'remote', 'remove', 'origin');
    const run = runRecord(fx.repo);
    const hooks = hooksFor(fx, github, [run]);
    const cwd = await prepare(hooks, run);
    writeFileSync(join(cwd, 'a.txt'), 'a\n');
    const t = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'x' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'completed';
    await finish(hooks, run);
    assert.ok(
      run.delivery!.notes!.some((n) => /no git remote named "origin".*kept local, not pushed/.test(n)),
      JSON.stringify(run.delivery),
    );
    assert.equal(run.delivery!.noPullRequest, 'no remote origin');
    assert.equal(github.pulls.length, 0);
    assert.equal(sh(fx.repo, 'rev-list', '--count', `main..${run.delivery!.branch!}`), '1');
  });

  test('a remote that is not on GitHub: the note names the setting that works (ORCHESTR8_GITHUB_REPO), and the branch stays local', async () => {
    const run = runRecord(fx.repo);
    // No `repo`: the remote (a local bare repository) is the only clue, and it is not a GitHub URL.
    const hooks = new ContextHooks({
      worktreeRoot: join(fx.root, 'state', 'worktrees'),
      publisher: new PullRequestPublisher({ token: TOKEN, baseUrl: github.url }),
    });
    const cwd = await prepare(hooks, run);
    writeFileSync(join(cwd, 'a.txt'), 'a\n');
    const t = taskRecord(run, 'edit', { kind: 'run', run: 'x' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'completed';
    await finish(hooks, run);
    const note = run.delivery!.notes!.find((n) => /not a GitHub repository/.test(n));
    assert.ok(note, JSON.stringify(run.delivery));
    assert.match(note, /ORCHESTR8_GITHUB_REPO \(owner\/name\)/);
    assert.doesNotMatch(note, /pull_request\.repo/, 'a key the workflow validation rejects');
    assert.equal(run.delivery!.noPullRequest, 'origin is not on GitHub');
    assert.equal(sh(fx.remote, 'branch', '--list', run.delivery!.branch!), '');
    assert.equal(github.pulls.length, 0);
  });

  test('a rejected push is recorded and opens no pull request', async () => {
    const run = runRecord(fx.repo);
    const hooks = hooksFor(fx, github, [run]);
    const cwd = await prepare(hooks, run);
    // Someone else already pushed a different branch of that name.
    const other = join(fx.root, 'other');
    sh(fx.root, 'clone', '-q', fx.remote, other);
    writeFileSync(join(other, 'theirs.txt'), 'theirs\n');
    sh(other, 'checkout', '-q', '-b', run.delivery!.branch!);
    sh(other, 'add', '-A');
    sh(other, 'commit', '-q', '-m', 'theirs');
    sh(other, 'push', '-q', 'origin', 'HEAD');
    writeFileSync(join(cwd, 'ours.txt'), 'ours\n');
    const t = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'x' });
    await hooks.taskCompleted(run, t, resultOf(t));
    run.state = 'completed';
    await finish(hooks, run);
    assert.match(run.delivery!.pushError!, /push of .* failed/);
    assert.equal(github.pulls.length, 0);
    assert.equal(sh(fx.remote, 'log', '-1', '--format=%s', `refs/heads/${run.delivery!.branch!}`), 'theirs');
  });

  for (const failure of ['down', 'drop'] as const) {
    test(`crash between push and pull request (${failure}), restart: exactly one pull request`, async () => {
      const run = runRecord(fx.repo);
      const runs = [run];
      const hooks = hooksFor(fx, github, runs);
      const cwd = await prepare(hooks, run);
      writeFileSync(join(cwd, 'a.txt'), 'a\n');
      const t = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'x' });
      await hooks.taskCompleted(run, t, resultOf(t));
      run.state = 'completed';
      github.failNextCreate = failure;
      await assert.rejects(finish(hooks, run), /opening the pull request failed/);
      assert.ok(sh(fx.remote, 'branch', '--list', 'orchestr8/*').includes(run.delivery!.branch!), 'pushed before the crash');
      assert.equal(github.pulls.length, failure === 'drop' ? 1 : 0);
      assert.equal(run.delivery?.pullRequest?.url, undefined);

      // A new process picks the run up from its recorded delivery and finishes the step.
      await finish(hooksFor(fx, github, runs), run);
      assert.equal(github.pulls.length, 1);
      assert.equal(run.delivery?.pullRequest?.url, 'https://github.example/acme/widgets/pull/1');
      assert.equal(run.delivery!.pullRequestError, undefined);
    });
  }

  test('cleanup removes worktrees and branches of merged or empty runs, keeps unmerged ones unless asked (their branches always)', async () => {
    const merged = runRecord(fx.repo, {}, 'merged');
    const open = runRecord(fx.repo, {}, 'open');
    const runs = [merged, open];
    const hooks = hooksFor(fx, undefined, runs);
    for (const run of runs) {
      const cwd = await prepare(hooks, run);
      writeFileSync(join(cwd, `${run.name}.txt`), 'x\n');
      const t = taskRecord(run, 'edit', { kind: 'agent', agent: 'coder', prompt: 'x' });
      await hooks.taskCompleted(run, t, resultOf(t));
      run.state = 'completed';
      await finish(hooks, run);
    }
    sh(fx.repo, 'merge', '-q', '--ff-only', merged.delivery!.branch!);
    const first = await cleanupRunWorktrees(runs);
    assert.deepEqual(
      first.removed.map((r) => r.runId),
      [merged.id],
    );
    assert.deepEqual(
      first.kept.map((r) => r.runId),
      [open.id],
    );
    assert.ok(!existsSync(merged.delivery!.worktree!));
    assert.equal(sh(fx.repo, 'branch', '--list', merged.delivery!.branch!), '', 'the merged branch is deleted');
    assert.ok(existsSync(open.delivery!.worktree!));
    const second = await cleanupRunWorktrees(runs, { all: true });
    assert.deepEqual(
      second.removed.map((r) => [r.runId, r.reason]),
      [[open.id, 'requested']],
    );
    assert.ok(!existsSync(open.delivery!.worktree!));
    assert.ok(sh(fx.repo, 'branch', '--list', open.delivery!.branch!), 'branch kept');
    assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1);

    // Retried after its worktree was removed: the same branch comes back, commits and all.
    const again = await prepare(hooks, open);
    assert.equal(sh(again, 'rev-parse', '--abbrev-ref', 'HEAD'), open.delivery!.branch);
    assert.ok(existsSync(join(again, 'open.txt')));
  });
});
