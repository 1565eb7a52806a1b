import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { allToolResults, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply, type RecordedRequest } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeClaudeCodeProject, type ClaudeCodeProject } from '../support/claude-code-project.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { answer, parked } from '../support/needs-input.ts';

// Claude Code itself (the SDK's native executable) against the local Messages server: a Bash
// command no allow rule covers, and a budget the next turn would pass, park the task instead of
// being refused or overspent; the answer resumes the same session.
let server: FakeAnthropicServer;
const project: ClaudeCodeProject = makeClaudeCodeProject({
  asker: { frontmatter: 'runtime: claude-code\ntools: Read, Bash\n', prompt: 'You are the asker.' },
  spender: { frontmatter: 'runtime: claude-code\ntools: Read, Write\n', prompt: 'You are the spender.' },
});
const COMMAND = 'touch made-by-claude.txt && echo made';

before(async () => {
  server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'You are the asker.': (_turn, request) => {
        const told = lastUserText(request);
        const results = allToolResults(request);
        if (told.includes('The user denied')) return textReply(`I was told: ${told}`);
        // Asked again after the approval (the resume prompt says so): the same command.
        if (!results.length || told.includes('The user allowed')) {
          return toolReply([{ name: 'Bash', input: { command: COMMAND, description: 'make a file' } }], { usage: { input_tokens: 1000, output_tokens: 40 } });
        }
        return textReply(`bash said: ${results.at(-1)}`);
      },
      'You are the spender.': (_turn, request) => {
        if (!allToolResults(request).length) {
          return toolReply([{ name: 'Write', input: { file_path: 'spent.txt', content: 'one turn\n' } }], { usage: { input_tokens: 1000, output_tokens: 40 } });
        }
        return textReply('finished within the raised budget', { usage: { input_tokens: 1100, output_tokens: 10 } });
      },
    }),
  });
});
after(() => server.close());

function runner(extra: ConstructorParameters<typeof AgentRunner>[0] = {}): AgentRunner {
  return new AgentRunner({ env: project.env(server), sandbox: false, ...extra });
}

/** The text the model was last told: the last user message's text blocks (Claude Code merges the resume prompt into the tool result's message). */
function lastUserText(request: RecordedRequest): string {
  const last = request.body.messages.filter((m) => m.role === 'user').at(-1);
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((b) => (b.type === 'text' ? String(b.text ?? '') : '')).join('\n');
}

function requestsOf(prompt: string): RecordedRequest[] {
  return server.requests.filter((r) => JSON.stringify(r.body.system).includes(prompt));
}

test('a Bash command no rule allows parks the task with a permission request; allowed once, the resumed session runs it', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'asker', prompt: 'make the file' });
  const ask = await parked(runner().execute(store.attempt()));
  assert.deepEqual(
    { ...ask.request, askedAt: 0 },
    { kind: 'permission', id: ask.request.id, tool: 'Bash', call: `Bash(${COMMAND})`, rule: 'Bash(touch:*)', askedAt: 0 },
  );
  assert.match(ask.request.id, /^toolu_/, "the request is named by the model's tool-use id");
  assert.ok(!existsSync(join(project.root, 'made-by-claude.txt')), 'nothing ran while it asks');
  assert.equal(requestsOf('You are the asker.').length, 1, 'no request after the question');
  const cp = store.checkpoint as { sessionId: string; asked: unknown };
  assert.match(cp.sessionId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(cp.asked, ask.request, 'the question is saved with the session');
  assert.ok(store.usage.length >= 1, 'the turn before the question is recorded');

  // Without an answer (the engine died before the task parked durably) it parks again, starting nothing.
  const again = await parked(runner().execute(store.attempt()));
  assert.deepEqual(again.request, ask.request);
  assert.equal(requestsOf('You are the asker.').length, 1);

  store.taskExtra = { answers: [answer(ask.request.id, 'allow')] };
  const out = await runner().execute(store.attempt());
  assert.equal(readFileSync(join(project.root, 'made-by-claude.txt'), 'utf8'), '');
  assert.equal(out.output, 'bash said: made');
  const asker = requestsOf('You are the asker.');
  assert.equal(asker.length, 3);
  assert.match(lastUserText(asker[1]!), new RegExp(`The user allowed the command \`${COMMAND.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``));
  assert.equal(asker[1]!.headers['x-claude-code-session-id'] ?? cp.sessionId, cp.sessionId, 'the same session');
  const done = store.checkpoint as { approved?: string; asked?: unknown; result: string };
  assert.equal(done.approved, undefined, 'allowed once: used up');
  assert.equal(done.asked, undefined);
  assert.equal(done.result, 'bash said: made');
});

test('denied with a reason: the resumed session tells the model the reason, and the command never runs', async () => {
  rmSync(join(project.root, 'made-by-claude.txt'), { force: true });
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'asker', prompt: 'make the file, maybe' });
  const before = requestsOf('You are the asker.').length;
  const ask = await parked(runner().execute(store.attempt()));
  store.taskExtra = { answers: [answer(ask.request.id, 'deny', 'no stray files in the project root')] };
  const out = await runner().execute(store.attempt());
  const asker = requestsOf('You are the asker.').slice(before);
  assert.equal(asker.length, 2);
  assert.match(lastUserText(asker[1]!), /The user denied the command `touch made-by-claude\.txt && echo made`: no stray files in the project root/);
  assert.match(out.output, /^I was told: .*no stray files in the project root/s);
  assert.ok(!existsSync(join(project.root, 'made-by-claude.txt')));

  // An allow rule (the run's, as "Allow for this run" adds; merged like the agent file's, the workflow's and the settings'): no question.
  const allowed = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'asker', prompt: 'make the file, allowed' });
  allowed.runExtra = { allowed: ['Bash(touch:*)'] };
  const ran = await runner({ permissions: () => ({ allow: ['Bash(echo:*)'] }) }).execute(allowed.attempt());
  assert.equal(ran.output, 'bash said: made');
});

test('budget: before the turn that would pass it the task parks ("raise the budget or stop"); raised, the session goes on', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'spender', prompt: 'spend' });
  store.taskExtra = { budget: { tokens: 1500 } };
  const ask = await parked(runner().execute(store.attempt()));
  assert.equal(ask.request.kind, 'budget');
  assert.equal(ask.request.kind === 'budget' && ask.request.scope, 'task');
  assert.equal(ask.request.kind === 'budget' && ask.request.spent.tokens, 1040);
  assert.equal(requestsOf('You are the spender.').length, 1, 'the turn that would pass the budget was not sent');
  assert.equal(readFileSync(join(project.root, 'spent.txt'), 'utf8'), 'one turn\n', "the turn's tool ran before it stopped");
  assert.match(store.log, /raise the budget or stop/);

  // Still the same budget: it parks again before starting Claude Code.
  await parked(runner().execute(store.attempt()));
  assert.equal(requestsOf('You are the spender.').length, 1);

  // Raised (by the budget again, as the engine does): the same session goes on.
  store.taskExtra = { budget: { tokens: 3000 }, answers: [answer(ask.request.id, 'allow')] };
  const out = await runner().execute(store.attempt());
  assert.equal(out.output, 'finished within the raised budget');
  const spender = requestsOf('You are the spender.');
  assert.equal(spender.length, 2);
  assert.equal(allToolResults(spender[1]!).length, 1, 'the session resumed with its tool result');

  // The setting's budget applies to a task without its own.
  const other = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'spender', prompt: 'spend again' });
  const byDefault = await parked(runner({ budget: { tokens: 1500 } }).execute(other.attempt()));
  assert.equal(byDefault.request.kind, 'budget');
});
