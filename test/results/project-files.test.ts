import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { GitRunHooks } from '../../src/core/git/git-run-hooks.ts';
import { removeWorktree } from '../../src/core/git/git-workspace.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { makeRepo, sh, type RepoFixture } from './git-fixtures.ts';
import { applyDelivery, runRecord } from './run-fixtures.ts';

const agentFile = (prompt: string) => `---\nname: helper\ndescription: helps\n---\n${prompt}\n`;

async function prepare(hooks: GitRunHooks, run: RunRecord): Promise<string> {
  const prepared = await hooks.prepareRun(run);
  if (prepared?.delivery) applyDelivery(run, prepared.delivery);
  if (prepared?.cwd) run.cwd = prepared.cwd;
  return prepared?.cwd ?? run.cwd;
}

describe("a run sees the project folder's agents and listed files, and says what it cannot see (real repositories)", () => {
  let fx: RepoFixture;
  beforeEach(() => {
    fx = makeRepo({ remote: false });
    writeFileSync(join(fx.repo, '.gitignore'), '.env\n');
    writeFileSync(join(fx.repo, '.worktreeinclude'), '# local settings the run needs\n.env\n');
    sh(fx.repo, 'add', '-A');
    sh(fx.repo, 'commit', '-q', '-m', 'ignore .env, include it in worktrees');
    // Not committed: a new agent, a local secret file (ignored), an edit and a new file.
    mkdirSync(join(fx.repo, '.claude', 'agents'), { recursive: true });
    writeFileSync(join(fx.repo, '.claude', 'agents', 'helper.md'), agentFile('You are the first helper.'));
    writeFileSync(join(fx.repo, '.env'), 'TOKEN=local\n');
    writeFileSync(join(fx.repo, 'README.md'), '# project\nlocal edit\n');
    writeFileSync(join(fx.repo, 'draft.txt'), 'draft\n');
  });
  afterEach(() => fx.dispose());

  test('agent files are kept with the run at launch, listed files are copied in, the rest is counted once; a retry keeps the launch-time definitions', async () => {
    const hooks = new GitRunHooks({ worktreeRoot: join(fx.root, 'state', 'worktrees') });
    const run = runRecord(fx.repo);
    const cwd = await prepare(hooks, run);
    const d = run.delivery!;
    assert.deepEqual(d.agentFiles, [{ path: '.claude/agents/helper.md', content: agentFile('You are the first helper.') }]);
    assert.equal(d.projectDir, fx.repo);
    assert.equal(existsSync(join(cwd, '.claude', 'agents', 'helper.md')), false, 'the worktree itself has only what HEAD has');
    assert.equal(readFileSync(join(cwd, '.env'), 'utf8'), 'TOKEN=local\n', '.worktreeinclude copied the ignored file in');
    assert.equal(sh(cwd, 'status', '--porcelain'), '', 'an ignored file copied in is not committed');
    const unseen = d.notes!.filter((n) => /uncommitted file/.test(n));
    assert.equal(unseen.length, 1);
    assert.match(
      unseen[0]!,
      /^2 uncommitted files in the project folder are not in the run's worktree, which starts from the last commit \(README\.md, draft\.txt\): commit them, use `workspace: in-place`, or list them in \.worktreeinclude/,
    );

    // The project's file changes; the run's worktree is removed and the run retried: same definitions, no second note.
    writeFileSync(join(fx.repo, '.claude', 'agents', 'helper.md'), agentFile('You are the second helper.'));
    await removeWorktree(fx.repo, d.worktree!);
    await prepare(new GitRunHooks({ worktreeRoot: join(fx.root, 'state', 'worktrees') }), run);
    assert.match(run.delivery!.agentFiles![0]!.content, /first helper/);
    assert.equal(run.delivery!.notes!.filter((n) => /uncommitted file/.test(n)).length, 1);
  });

  test("the workflow's include: copies a modified tracked file in, committed as its own commit", async () => {
    const hooks = new GitRunHooks({ worktreeRoot: join(fx.root, 'state', 'worktrees') });
    const run = runRecord(fx.repo, { include: ['README.md'] });
    const cwd = await prepare(hooks, run);
    assert.equal(readFileSync(join(cwd, 'README.md'), 'utf8'), '# project\nlocal edit\n');
    assert.match(sh(cwd, 'log', '-1', '--format=%s'), /^Files copied in from the project folder/);
    assert.match(
      run.delivery!.notes!.find((n) => /uncommitted file/.test(n))!,
      /^1 uncommitted file in the project folder is not in the run's worktree.*\(draft\.txt\)/,
    );
  });

  test('an agent task of a run with kept definitions finds the agent though its folder has none', async () => {
    const server = await FakeAnthropicServer.start();
    const empty = await realpath(await mkdtemp(join(tmpdir(), 'o8-empty-')));
    try {
      server.enqueue(textReply('done'));
      const store = new InMemoryTaskStore(empty, { kind: 'agent', agent: 'helper', prompt: 'help' });
      const ctx = store.attempt();
      const runner = new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, maxRetries: 0, env: {} });
      const out = await runner.execute({
        ...ctx,
        run: {
          ...ctx.run,
          delivery: { projectDir: fx.repo, agentFiles: [{ path: '.claude/agents/helper.md', content: agentFile('You are the first helper.') }] },
        },
      });
      assert.equal(out.output, 'done');
      const system = server.requests[0]!.body.system as Array<{ text: string }>;
      assert.match(system[0]!.text, /You are the first helper\./);
      // Without them, the same folder knows no agent: the failure the kept definitions prevent.
      await assert.rejects(runner.execute(store.attempt()), /unknown agent "helper" \(known: none\)/);
    } finally {
      await server.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
