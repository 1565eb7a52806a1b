import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { Engine } from '../../src/core/engine/engine.ts';
import { GitRunHooks, defaultTaskWrites } from '../../src/core/git/git-run-hooks.ts';
import { cleanupRunWorktrees } from '../../src/core/git/worktree-cleanup.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import type { TaskAction } from '../../src/core/model/workflow.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { finalized, runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { clashRepo, makeRepo, sh } from './git-fixtures.ts';
import { applyDelivery, ContextHooks, runRecord, taskRecord } from './run-fixtures.ts';

/** An engine owning `stateDir` on the project `repo`, with the git hooks and (optionally) the agent runner. */
async function open(repo: string, stateDir: string, server?: FakeAnthropicServer) {
  const results = setupResults({ stateDir });
  const engine = await Engine.open({
    stateDir,
    cwd: repo,
    hooks: [results.hooks],
    concurrency: 4,
    runners: server ? [new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, env: {}, sandbox: false })] : [],
  });
  const attached = results.startWebhooks(engine);
  after(async () => {
    await attached.close();
    await engine.close();
  });
  return engine;
}

/** Two tasks that change the same line (`clashRepo`), and an engine on the repository. */
async function clash() {
  const { fx, edit } = clashRepo();
  return { fx, edit, engine: await open(fx.repo, tempDir('o8-state-')) };
}

/** Each commit of the run's branch (oldest first) with the files it changed, merges left out. */
function commitsOf(repo: string, branch: string): Array<{ subject: string; files: string[] }> {
  const out = sh(repo, 'log', '--reverse', '--no-merges', '--format=%x00%s', '--name-only', `main..${branch}`);
  return out
    .split('\0')
    .filter(Boolean)
    .map((block) => {
      const [subject, ...files] = block.split('\n').filter(Boolean);
      return { subject: subject!, files: files.sort() };
    });
}

test('parallel shell and agent tasks: each in its own worktree, one commit per task with exactly its files, all merged; the dependent task sees every change', async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  // Agents that may write, committed in the project (a task's worktree is a checkout of it).
  mkdirSync(join(fx.repo, '.orchestr8/agents'), { recursive: true });
  for (const name of ['backend', 'frontend']) {
    writeFileSync(
      join(fx.repo, `.orchestr8/agents/${name}.md`),
      `---\nname: ${name}\ndescription: writes the ${name}\ntools: Read, Write\n---\nYou are the ${name} writer.\n`,
    );
  }
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'agents');
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'backend writer': (turn) =>
        turn === 1 ? toolReply([{ name: 'write_file', input: { path: 'api.ts', content: 'export const api = 1;\n' } }]) : textReply('api written'),
      'frontend writer': (turn) =>
        turn === 1 ? toolReply([{ name: 'write_file', input: { path: 'ui.ts', content: 'export const ui = 1;\n' } }]) : textReply('ui written'),
    }),
  });
  after(() => server.close());
  const barrier = tempDir('o8-barrier-');
  // Both shell tasks wait for each other: they run at the same time, and neither sees the other's file.
  const shell = (name: string, other: string) =>
    `echo ${name} > ${name}.txt && touch ${barrier}/${name} && for i in $(seq 600); do test -e ${barrier}/${other} && break; sleep 0.05; done && test -e ${barrier}/${other} && test ! -e ${other}.txt && echo isolated`;
  const engine = await open(fx.repo, tempDir('o8-state-'), server);
  const { runId } = await engine.launch({
    workflow: workflow(`
name: Parallel Work
tasks:
  one: { run: "${shell('one', 'two')}" }
  two: { run: "${shell('two', 'one')}" }
  backend: { agent: backend, prompt: "write the api" }
  frontend: { agent: frontend, prompt: "write the ui" }
  check: { run: "cat one.txt two.txt api.ts ui.ts > all.txt", needs: [one, two, backend, frontend] }
`),
  });
  const done = await runFinished(engine, runId);
  const { tasks } = await engine.status(runId);
  assert.equal(done.state, 'completed', tasks.map((t) => `${t.key}: ${t.state} ${t.error ?? ''}`).join('\n'));
  const run = await finalized(engine, runId);
  const branch = run.delivery!.branch!;

  const commits = commitsOf(fx.repo, branch);
  const byTask = Object.fromEntries(commits.map((c) => [c.subject.split(':')[0], c.files]));
  assert.equal(commits.length, 5, commits.map((c) => c.subject).join('\n'));
  assert.deepEqual(byTask, { one: ['one.txt'], two: ['two.txt'], backend: ['api.ts'], frontend: ['ui.ts'], check: ['all.txt'] });
  assert.deepEqual(commits.at(-1)!.subject, 'check: shell command', 'the dependent task comes after all four');
  assert.equal(
    readFileSync(join(run.delivery!.worktree!, 'all.txt'), 'utf8'),
    'one\ntwo\nexport const api = 1;\nexport const ui = 1;\n',
    'the dependent task saw every change',
  );
  assert.equal(sh(run.delivery!.worktree!, 'status', '--porcelain'), '', "the run's worktree matches its branch");
  // Every task's commit says which task it is; the task worktrees and branches are gone once merged.
  for (const t of tasks) assert.match(sh(fx.repo, 'log', '-F', `--grep=Orchestr8-Task: ${t.id}`, '--format=%s', branch), new RegExp(`^${t.key}: `));
  assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 2, 'only the project and the run worktree');
  assert.equal(sh(fx.repo, 'branch', '--list', `${branch}--*`), '');
});

test('two parallel tasks change the same line: the conflict names the file, the run branch has no markers, a manual merge then retry completes the run', async () => {
  const { fx, edit, engine } = await clash();
  const { runId } = await engine.launch({
    workflow: workflow(`
name: Clash
tasks:
  left: { run: "${edit('left', 'right')}" }
  right: { run: "${edit('right', 'left')}" }
  after: { run: "cp config.txt final.txt", needs: [left, right] }
`),
  });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const { run, tasks } = await engine.status(runId);
  const failed = tasks.filter((t) => t.state === 'failed');
  assert.equal(failed.length, 1, tasks.map((t) => `${t.key}: ${t.state}`).join(', '));
  const loser = failed[0]!;
  const winner = loser.key === 'left' ? 'right' : 'left';
  const branch = run.delivery!.branch!;
  assert.match(loser.error!, /merge conflict/);
  assert.match(loser.error!, /config\.txt/);
  assert.deepEqual(loser.mergeConflict?.files, ['config.txt']);
  assert.equal(loser.mergeConflict?.runBranch, branch);
  // The run's branch holds the winner's change alone, no markers; the loser's worktree holds the merge in progress.
  assert.equal(sh(fx.repo, 'show', `${branch}:config.txt`), `mode = ${winner}`);
  assert.equal(readFileSync(join(run.delivery!.worktree!, 'config.txt'), 'utf8'), `mode = ${winner}\n`);
  const conflicted = join(loser.mergeConflict!.worktree, 'config.txt');
  assert.match(readFileSync(conflicted, 'utf8'), /^<<<<<<< /m);
  assert.ok(sh(fx.repo, 'branch', '--list', loser.mergeConflict!.taskBranch));

  // The user merges the task's branch into the run's by hand, then retries.
  const runWorktree = loser.mergeConflict!.runWorktree;
  try {
    sh(runWorktree, 'merge', '-q', '--no-edit', loser.mergeConflict!.taskBranch);
  } catch {
    // conflicts, as expected
  }
  writeFileSync(join(runWorktree, 'config.txt'), 'mode = both\n');
  sh(runWorktree, 'add', 'config.txt');
  sh(runWorktree, 'commit', '-q', '--no-edit');
  const started = sh(fx.repo, 'rev-list', '--count', `main..${branch}`);
  await engine.retry(runId);
  const again = await runFinished(engine, runId);
  const after2 = await engine.status(runId);
  assert.equal(again.state, 'completed', after2.tasks.map((t) => `${t.key}: ${t.state} ${t.error ?? ''}`).join('\n'));
  assert.equal(readFileSync(join(runWorktree, 'final.txt'), 'utf8'), 'mode = both\n');
  assert.equal(after2.tasks.find((t) => t.key === loser.key)!.mergeConflict, undefined);
  // The retry did not run the loser again (its change would clash once more): it found its work merged.
  assert.equal(Number(sh(fx.repo, 'rev-list', '--count', `main..${branch}`)), Number(started) + 1, 'only the dependent task committed');
  assert.equal(sh(fx.repo, 'show', `${branch}:config.txt`), 'mode = both');
  assert.equal(sh(fx.repo, 'branch', '--list', `${branch}--*`), '', 'task branches gone');
  assert.ok(!existsSync(loser.mergeConflict!.worktree));
});

test('resolve_conflicts: an agent gets the conflict hunks, resolves them in the task worktree, and the run completes', async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  writeFileSync(join(fx.repo, 'config.txt'), 'mode = old\n');
  mkdirSync(join(fx.repo, '.orchestr8/agents'), { recursive: true });
  writeFileSync(
    join(fx.repo, '.orchestr8/agents/resolver.md'),
    '---\nname: resolver\ndescription: resolves merge conflicts\ntools: Read, Write\n---\nYou are the conflict resolver.\n',
  );
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'config and resolver');
  const prompts: string[] = [];
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'conflict resolver': (turn, request) => {
        const first = request.body.messages[0]!;
        if (turn === 1) prompts.push(typeof first.content === 'string' ? first.content : JSON.stringify(first.content));
        return turn === 1 ? toolReply([{ name: 'write_file', input: { path: 'config.txt', content: 'mode = both\n' } }]) : textReply('resolved');
      },
    }),
  });
  after(() => server.close());
  const barrier = tempDir('o8-barrier-');
  const edit = (name: string, other: string) =>
    `sed -i 's/old/${name}/' config.txt && touch ${barrier}/${name} && for i in $(seq 600); do test -e ${barrier}/${other} && break; sleep 0.05; done`;
  const engine = await open(fx.repo, tempDir('o8-state-'), server);
  const { runId } = await engine.launch({
    workflow: workflow(`
name: Clash Resolved
resolve_conflicts: resolver
tasks:
  left: { run: "${edit('left', 'right')}" }
  right: { run: "${edit('right', 'left')}" }
  after: { run: "cp config.txt final.txt", needs: [left, right] }
`),
  });
  const done = await runFinished(engine, runId);
  const { run, tasks } = await engine.status(runId);
  assert.equal(done.state, 'completed', tasks.map((t) => `${t.key}: ${t.state} ${t.error ?? ''}`).join('\n'));
  assert.equal(prompts.length, 1, 'one resolver run');
  assert.match(prompts[0]!, /config\.txt/);
  assert.match(prompts[0]!, /<<<<<<< [\s\S]*mode = [\s\S]*=======[\s\S]*>>>>>>> /, 'the prompt holds the conflict hunk');
  const branch = run.delivery!.branch!;
  assert.equal(sh(fx.repo, 'show', `${branch}:config.txt`), 'mode = both');
  assert.equal(sh(fx.repo, 'show', `${branch}:final.txt`), 'mode = both');
  assert.match(sh(fx.repo, 'log', '--format=%s', `main..${branch}`), /: resolve conflicts with .* \(agent resolver\)/);
  assert.equal(sh(fx.repo, 'branch', '--list', `${branch}--*`), '');
});

test('a conflict resolved in the task worktree: staged markers are refused on retry; a real resolution completes the run', async () => {
  const { fx, edit, engine } = await clash();
  const { runId } = await engine.launch({
    workflow: workflow(`
name: Clash Here
tasks:
  left: { run: "${edit('left', 'right')}" }
  right: { run: "${edit('right', 'left')}" }
`),
  });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const loser = (await engine.status(runId)).tasks.find((t) => t.state === 'failed')!;
  const here = loser.mergeConflict!.worktree;
  // Staged as git left it, markers and all: not a resolution.
  sh(here, 'add', 'config.txt');
  await engine.retry(runId);
  const retried = await runFinished(engine, runId);
  assert.equal(retried.state, 'failed');
  const again = (await engine.status(runId)).tasks.find((t) => t.key === loser.key)!;
  assert.deepEqual(again.mergeConflict?.files, ['config.txt'], `the retried task: ${JSON.stringify(again)}`);
  const branch = (await engine.status(runId)).run.delivery!.branch!;
  assert.doesNotMatch(sh(fx.repo, 'show', `${branch}:config.txt`), /<<<<<<<|>>>>>>>/);

  writeFileSync(join(here, 'config.txt'), 'mode = both\n');
  await engine.retry(runId);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.equal(sh(fx.repo, 'show', `${branch}:config.txt`), 'mode = both');
  assert.ok(!existsSync(here));
});

test("which tasks get a worktree of their own: shell commands and agents with a writing tool; readers and waits share the run's", async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  mkdirSync(join(fx.repo, '.orchestr8/agents'), { recursive: true });
  const agents = { reader: 'tools: Read, Grep, Glob\n', editor: 'tools: Read, Edit\n', shell: 'tools: Bash\n', anything: '' };
  for (const [name, tools] of Object.entries(agents))
    writeFileSync(join(fx.repo, `.orchestr8/agents/${name}.md`), `---\nname: ${name}\ndescription: ${name}\n${tools}---\nYou are ${name}.\n`);
  const run = runRecord(fx.repo);
  const task = (key: string, action: TaskAction) => taskRecord(run, key, action);
  const writes = async (action: TaskAction) => defaultTaskWrites(run, task('t', action));
  assert.equal(await writes({ kind: 'run', run: 'ls' }), true);
  assert.equal(await writes({ kind: 'agent', agent: 'reader', prompt: 'p' }), false);
  assert.equal(await writes({ kind: 'agent', agent: 'editor', prompt: 'p' }), true);
  assert.equal(await writes({ kind: 'agent', agent: 'shell', prompt: 'p' }), true);
  assert.equal(await writes({ kind: 'agent', agent: 'anything', prompt: 'p' }), true, 'no tools listed: every tool but the shell, writing ones included');
  assert.equal(await writes({ kind: 'agent', agent: 'unknown', prompt: 'p' }), true, 'an agent that cannot be read is assumed to write');
  assert.equal(await writes({ kind: 'wait' }), false);

  // Through the hooks: the reader works in the run's worktree, the editor in its own.
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'agents');
  const hooks = new GitRunHooks({ worktreeRoot: join(fx.root, 'state', 'worktrees') });
  const prepared = await hooks.prepareRun(run);
  if (prepared?.delivery) applyDelivery(run, prepared.delivery);
  run.cwd = prepared!.cwd!;
  assert.equal(await hooks.prepareTask(run, task('review', { kind: 'agent', agent: 'reader', prompt: 'p' })), undefined);
  const own = await hooks.prepareTask(run, task('edit', { kind: 'agent', agent: 'editor', prompt: 'p' }));
  assert.ok(own?.cwd && own.cwd !== run.cwd && existsSync(own.cwd));
  assert.equal(sh(own.cwd, 'rev-parse', '--abbrev-ref', 'HEAD'), `${run.delivery!.branch}--edit`);
});

test("a run cancelled while its task's worktree is being made leaves no branch, whichever comes first", async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  const hooks = new ContextHooks({ worktreeRoot: join(fx.root, 'state', 'worktrees') });
  for (const order of ['task first', 'finish first'] as const) {
    const run = runRecord(fx.repo);
    const prepared = await hooks.prepareRun(run);
    if (prepared?.delivery) applyDelivery(run, prepared.delivery);
    run.cwd = prepared!.cwd!;
    const task = taskRecord(run, 'sleep', { kind: 'run', run: 'sleep 30' });
    const cancelled: RunRecord = { ...run, state: 'cancelled' };
    // Neither awaited before the other starts: the engine cancels a task as it starts.
    const [first, second] =
      order === 'task first'
        ? [hooks.prepareTask(run, task), hooks.runFinished(cancelled, [])]
        : [hooks.runFinished(cancelled, []), hooks.prepareTask(run, task)];
    await Promise.allSettled([first, second]);
    assert.equal(sh(fx.repo, 'branch', '--list', 'orchestr8/*'), '', `${order}: no run or task branch left`);
    assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1, `${order}: no worktree left`);
  }
});

test('a failed run that changed nothing leaves no branch; retried, it gets a branch again and its commit', async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  const flag = join(tempDir('o8-flag-'), 'go');
  const engine = await open(fx.repo, tempDir('o8-state-'));
  const { runId } = await engine.launch({ workflow: workflow(`name: Later\ntasks:\n  t: { run: "test -e ${flag} && echo x > x.txt" }\n`) });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const first = await finalized(engine, runId);
  assert.equal(first.delivery!.changed, false);
  assert.equal(sh(fx.repo, 'branch', '--list', 'orchestr8/*'), '', 'no branch, no task branch');
  assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1, 'no worktree');

  writeFileSync(flag, '');
  await engine.retry(runId);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  const end = Date.now() + 15_000;
  let run = (await engine.status(runId)).run;
  while (run.delivery?.changed !== true && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    run = (await engine.status(runId)).run;
  }
  assert.equal(run.delivery!.changed, true);
  assert.equal(sh(fx.repo, 'log', '--format=%s', `main..${run.delivery!.branch!}`), 't: shell command');
});

test('cleanup of a run left with a conflict removes its task worktree too, and keeps the branches', async () => {
  const { fx, edit, engine } = await clash();
  const { runId } = await engine.launch({
    workflow: workflow(`name: Left Over\ntasks:\n  left: { run: "${edit('left', 'right')}" }\n  right: { run: "${edit('right', 'left')}" }\n`),
  });
  assert.equal((await runFinished(engine, runId)).state, 'failed');
  const run = await finalized(engine, runId);
  const conflict = (await engine.status(runId)).tasks.find((t) => t.mergeConflict)!.mergeConflict!;
  assert.ok(existsSync(conflict.worktree));
  const outcome = await cleanupRunWorktrees([run], { all: true });
  assert.deepEqual(
    outcome.removed.map((r) => r.runId),
    [runId],
  );
  assert.ok(!existsSync(run.delivery!.worktree!));
  assert.ok(!existsSync(conflict.worktree), "the task worktree went with the run's");
  assert.equal(sh(fx.repo, 'worktree', 'list').split('\n').length, 1);
  assert.ok(sh(fx.repo, 'branch', '--list', conflict.taskBranch), 'the task branch stays');
});
