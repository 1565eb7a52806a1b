import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { Engine } from '../../src/core/engine/engine.ts';
import { setupResults } from '../../src/core/results/results-setup.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { allToolResults, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply, type RecordedRequest } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeClaudeCodeProject } from '../support/claude-code-project.ts';
import { finalized, nextEvent, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { makeRepo, sh } from '../results/git-fixtures.ts';

const PROMPT = 'You are the continuing scribe.';
const FOLLOW_UP = 'Also add a TODO list';

function told(request: RecordedRequest): string {
  return JSON.stringify(request.body.messages.filter((m) => m.role === 'user'));
}

test('Continue… on a finished claude-code task: a new attempt resumes its Claude Code session with the prompt, in the run’s worktree, and its change lands on the run’s branch', async () => {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  mkdirSync(join(fx.repo, '.orchestr8/agents'), { recursive: true });
  writeFileSync(
    join(fx.repo, '.orchestr8/agents/scribe.md'),
    `---\nname: scribe\ndescription: writes notes\nruntime: claude-code\ntools: Read, Write\n---\n${PROMPT}\n`,
  );
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'agent');
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      [PROMPT]: (_turn, request) => {
        const results = allToolResults(request);
        if (results.length === 0) return toolReply([{ name: 'Write', input: { file_path: 'NOTES.md', content: '# Notes\n' } }]);
        if (!told(request).includes(FOLLOW_UP)) return textReply('Wrote NOTES.md.');
        if (results.length === 1) return toolReply([{ name: 'Write', input: { file_path: 'TODO.md', content: '- more\n' } }]);
        return textReply('Added TODO.md too.');
      },
    }),
  });
  after(() => server.close());
  // Only for Claude Code's own config folder (isolated from the user's ~/.claude) and its environment.
  const claude = makeClaudeCodeProject({});

  const stateDir = tempDir('o8-claude-code-continue-');
  const results = setupResults({ stateDir });
  const engine = await Engine.open({ stateDir, cwd: fx.repo, hooks: [results.hooks], runners: [new AgentRunner({ env: claude.env(server), sandbox: false })] });
  const attached = results.startWebhooks(engine);
  after(async () => (await attached.close(), await engine.close()));

  const { runId, taskIds } = await engine.launch({ task: { action: { kind: 'agent', agent: 'scribe', prompt: 'Write notes' } } });
  const taskId = taskIds[0]!;
  assert.equal((await runFinished(engine, runId, 60_000)).state, 'completed');
  const first = await finalized(engine, runId, 0, 30_000);
  const branch = String(first.delivery?.branch);
  assert.equal(sh(fx.repo, 'rev-list', '--count', `main..${branch}`), '1');
  assert.equal(server.requests.length, 2);
  const session = server.requests[0]!.headers['x-claude-code-session-id'];

  const resumed = nextEvent(engine, 'workflow.resumed');
  await engine.followUp(taskId, FOLLOW_UP);
  await resumed;
  assert.equal((await runFinished(engine, runId, 60_000)).state, 'completed');
  const second = await finalized(engine, runId, first.finishedAt, 30_000);

  // The same session: the earlier turns are in the follow-up's first request, with the new prompt after them.
  assert.equal(server.requests.length, 4, 'no finished turn was paid for twice');
  const followUpRequest = server.requests[2]!;
  assert.match(JSON.stringify(followUpRequest.body.messages), /Wrote NOTES\.md\..*Also add a TODO list/s);
  if (session !== undefined) assert.equal(followUpRequest.headers['x-claude-code-session-id'], session);

  const task = await engine.task(taskId);
  assert.equal(task.state, 'completed');
  assert.equal(task.attempt, 2, 'a new attempt of the same task');
  assert.equal((await engine.result(taskId))?.output, 'Added TODO.md too.');
  assert.equal(second.delivery?.worktree, first.delivery?.worktree, 'the same worktree');
  assert.equal(readFileSync(join(String(second.delivery?.worktree), 'TODO.md'), 'utf8'), '- more\n');
  assert.equal(sh(fx.repo, 'rev-list', '--count', `main..${branch}`), '2', "the follow-up's commit is on the run's branch");
  assert.equal(sh(fx.repo, 'show', `${branch}:TODO.md`), '- more');
});
