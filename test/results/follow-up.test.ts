import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { Engine } from '../../src/core/engine/engine.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { finalized, nextEvent, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { FakeGitHub } from './fake-github-server.ts';
import { makeRepo, sh } from './git-fixtures.ts';

const TOKEN = 'ghp_follow_up_test';

test('Continue… on a finished agent task: a new attempt continues the conversation in the run’s worktree, commits on its branch and pushes to the open pull request', async () => {
  const fx = makeRepo();
  after(() => fx.dispose());
  mkdirSync(join(fx.repo, '.orchestr8/agents'), { recursive: true });
  writeFileSync(join(fx.repo, '.orchestr8/agents/scribe.md'), '---\nname: scribe\ndescription: writes notes\ntools: Read, Write\n---\nYou write notes.\n');
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'agent');
  sh(fx.repo, 'push', '-q', 'origin', 'main');
  const github = new FakeGitHub({ token: TOKEN, repos: { 'acme/widgets': fx.remote } });
  await github.start();
  after(() => github.close());
  const server = await FakeAnthropicServer.start();
  after(() => server.close());

  const stateDir = tempDir('o8-follow-up-');
  const results = setupResults({ stateDir, github: { token: TOKEN, baseUrl: github.url, repo: 'acme/widgets' } });
  const engine = await Engine.open({
    stateDir,
    cwd: fx.repo,
    hooks: [results.hooks],
    runners: [new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, sandbox: false })],
  });
  const attached = results.startWebhooks(engine);
  after(async () => (await attached.close(), await engine.close()));

  server.enqueue(toolReply([{ name: 'write_file', input: { path: 'NOTES.md', content: '# Notes\n' } }]), textReply('Wrote NOTES.md.'));
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'agent', agent: 'scribe', prompt: 'Write notes' } } });
  const taskId = taskIds[0]!;
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  const first = await finalized(engine, runId);
  const branch = String(first.delivery?.branch);
  assert.equal(github.pulls.length, 1);
  const firstBody = github.pulls[0]!.body;
  assert.doesNotMatch(firstBody, /Follow-ups/);
  assert.equal(sh(fx.remote, 'rev-list', '--count', `main..refs/heads/${branch}`), '1');
  assert.equal(first.delivery?.commits, 1);

  // The follow-up: the model sees the whole conversation so far, then the new prompt.
  server.enqueue(toolReply([{ name: 'write_file', input: { path: 'TODO.md', content: '- more\n' } }]), textReply('Added TODO.md too.'));
  const resumed = nextEvent(engine, 'workflow.resumed');
  await engine.followUp(taskId, 'Also add a TODO list');
  await resumed;
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  const second = await finalized(engine, runId, first.finishedAt);

  const followUpRequest = server.requests[2]!.body as { messages: Array<{ role: string; content: unknown }> };
  assert.deepEqual(
    followUpRequest.messages.map((m) => m.role),
    ['user', 'assistant', 'user', 'assistant', 'user'],
  );
  assert.match(JSON.stringify(followUpRequest.messages[3]!.content), /Wrote NOTES\.md\./, 'the earlier answer is in the conversation');
  assert.match(JSON.stringify(followUpRequest.messages[4]!.content), /Also add a TODO list/);
  assert.equal(server.requests.length, 4, 'no finished turn was paid for twice');

  const task = await engine.task(taskId);
  assert.equal(task.state, 'completed');
  assert.equal(task.attempt, 2, 'a new attempt of the same task');
  assert.deepEqual(task.followUps, ['Also add a TODO list']);
  assert.equal((await engine.result(taskId))?.output, 'Added TODO.md too.');
  assert.equal(second.delivery?.worktree, first.delivery?.worktree, 'the same worktree');
  assert.equal(readFileSync(join(String(second.delivery?.worktree), 'TODO.md'), 'utf8'), '- more\n');
  assert.equal(sh(fx.remote, 'rev-list', '--count', `main..refs/heads/${branch}`), '2', 'the new commit was pushed to the pull request’s branch');
  assert.equal(second.delivery?.commits, 2, 'the run says how many commits its branch has now');
  assert.equal(github.pulls.length, 1, 'the same pull request, updated by the push');
  assert.equal(second.delivery?.pullRequest?.url, first.delivery?.pullRequest?.url);

  // Its description was written again: it names the follow-up and the run's new totals.
  const body = github.pulls[0]!.body;
  assert.ok(github.requests.includes('PATCH /repos/acme/widgets/pulls/1'), github.requests.join('\n'));
  assert.match(body, /### Follow-ups\n\n- scribe: Write notes: Also add a TODO list\n/);
  const totals = (text: string) => /- Tokens: (\d+) in, (\d+) out/.exec(text)!.slice(1).map(Number);
  const usage = await engine.usage(runId);
  assert.deepEqual(totals(body), [usage.inputTokens, usage.outputTokens], 'the totals of both attempts');
  assert.ok(totals(body)[0]! > totals(firstBody)[0]!, `more than the first attempt's ${totals(firstBody)[0]} tokens in`);
  assert.deepEqual(second.delivery?.notes ?? [], []);

  // GitHub refusing the new description does not keep the run from finishing: the run says why.
  server.enqueue(textReply('Nothing else to do.'));
  github.failNextUpdate = true;
  await engine.followUp(taskId, 'Anything else?');
  const third = await finalized(engine, runId, second.finishedAt);
  assert.deepEqual(third.delivery?.notes, ['updating the description of pull request #1 failed: Resource not accessible by personal access token']);
  assert.equal(github.pulls[0]!.body, body, 'unchanged on GitHub');
});

test('Continue… refuses what it cannot continue: a shell task, a running task, an empty prompt', async () => {
  const stateDir = tempDir('o8-follow-up-refuse-');
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-follow-up-cwd-') });
  after(() => engine.close());
  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'run', run: 'echo hi' } } });
  await runFinished(engine, runId);
  await assert.rejects(engine.followUp(taskIds[0]!, 'more'), /only an agent task continues a conversation/);
  await assert.rejects(engine.followUp(runId, 'more'), /is a run; Continue… takes an agent task's id/);
  await assert.rejects(engine.followUp(taskIds[0]!, '  '), /needs a prompt/);
});
