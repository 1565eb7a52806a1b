import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { TaskError } from '../../src/core/runners/task-runner.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { allToolResults, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeClaudeCodeProject, type ClaudeCodeProject } from '../support/claude-code-project.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { until } from '../support/until.ts';

// Claude Code itself (the SDK's native executable) against the local Messages server.
let server: FakeAnthropicServer;
// Made at load time: tempDir's cleanup belongs to the file, not to a hook.
const project: ClaudeCodeProject = makeClaudeCodeProject({
  writer: { frontmatter: 'runtime: claude-code\ntools: Read, Write\n', prompt: 'You are the note writer.' },
  // No runtime in the file: the setting picks Claude Code.
  sheller: { frontmatter: 'tools: Read, Write\n', prompt: 'You are the shell user.' },
  slow: { frontmatter: 'runtime: claude-code\n', prompt: 'You are the slow one.' },
  // Its commands are allowed by rules, so they run without asking: the OS sandbox is what confines them.
  boxed: { frontmatter: 'runtime: claude-code\ntools: Bash\npermissions:\n  allow: ["Bash(echo:*)", "Bash(python3:*)"]\n', prompt: 'You are the boxed shell.' },
});

before(async () => {
  server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'You are the note writer.': (_turn, request) => {
        const results = allToolResults(request);
        if (!results.length) {
          return toolReply(
            [
              { name: 'Write', input: { file_path: 'notes/hello.txt', content: 'inside the worktree\n' } },
              { name: 'Write', input: { file_path: '../../escape.txt', content: 'outside\n' } },
            ],
            { text: 'Writing the notes.', usage: { input_tokens: 1000, output_tokens: 40 } },
          );
        }
        return textReply(`Wrote notes/hello.txt. Second write: ${results[1]?.includes('Orchestr8 denied Write') ? 'refused' : 'NOT refused'}.`, {
          usage: { input_tokens: 1200, output_tokens: 20 },
        });
      },
      'You are the shell user.': (_turn, request) => {
        const results = allToolResults(request);
        if (!results.length) return toolReply([{ name: 'Bash', input: { command: 'touch shell-ran.txt', description: 'touch a file' } }]);
        return textReply(`bash said: ${results[0]}`);
      },
      'You are the slow one.': () => ({ kind: 'stall', text: 'Thinking very hard…' }),
      'You are the boxed shell.': (_turn, request) => {
        const results = allToolResults(request);
        if (!results.length) {
          return toolReply([
            { name: 'Bash', input: { command: 'echo in > inside.txt && echo ok', description: 'write inside' } },
            { name: 'Bash', input: { command: `python3 -c "open('${project.outer}/bash-escape.txt','w').write('x')"`, description: 'write outside' } },
          ]);
        }
        return textReply(`inside: ${results[0]} | outside: ${results[1]}`);
      },
    }),
  });
});
after(() => server.close());

function runner(extra: ConstructorParameters<typeof AgentRunner>[0] = {}): AgentRunner {
  return new AgentRunner({ env: project.env(server), ...extra });
}

test('runtime: claude-code writes in its worktree, its ../../ write is refused, the final text is the result, usage and cost are recorded', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'writer', prompt: 'write the notes' });
  const out = await runner().execute(store.attempt());

  assert.equal(readFileSync(join(project.root, 'notes/hello.txt'), 'utf8'), 'inside the worktree\n');
  assert.ok(!existsSync(join(project.outer, 'escape.txt')), 'Claude Code wrote outside its worktree');
  assert.equal(out.output, 'Wrote notes/hello.txt. Second write: refused.');
  // The model saw why: the reason from our grant, not a bare "permission denied".
  const denial = allToolResults(server.requests.at(-1)!)[1]!;
  assert.match(denial, /Orchestr8 denied Write: .*outside the task folder/);

  // Two model requests, both through the local server; Claude Code's system prompt carries the agent file's body.
  const mine = server.requests.filter((r) => JSON.stringify(r.body.system).includes('You are the note writer.'));
  assert.equal(mine.length, 2);
  assert.ok(mine[0]!.body.tools!.some((t) => t.name === 'Write'));
  assert.ok(!mine[0]!.body.tools!.some((t) => t.name === 'Bash'), 'Bash offered without being granted');

  // Usage from the result message: the server's token counts, and Claude Code's cost for them.
  assert.ok(store.usage.length >= 1);
  const sum = (k: 'inputTokens' | 'outputTokens') => store.usage.reduce((n, u) => n + u[k], 0);
  assert.equal(sum('inputTokens'), 2200);
  assert.equal(sum('outputTokens'), 60);
  assert.ok(store.usage.reduce((n, u) => n + u.costUsd, 0) > 0);

  // Live log, and the session checkpointed with the result.
  assert.match(store.log, /on Claude Code/);
  assert.match(store.log, /Writing the notes\./);
  assert.match(store.log, /→ Write .*notes\/hello\.txt/);
  assert.match(store.log, /Orchestr8 denied Write/);
  const cp = store.checkpoint as { runtime: string; sessionId: string; turn: number; result: string };
  assert.equal(cp.runtime, 'claude-code');
  assert.match(cp.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(cp.turn, 2);
  assert.equal(cp.result, out.output);
  assert.ok(store.pids.length >= 1, 'the Claude Code process group was not recorded');

  // A later attempt (the task completed but its completion was lost) answers from the checkpoint.
  const before = server.requests.length;
  const again = await runner().execute(store.attempt());
  assert.equal(again.output, out.output);
  assert.equal(server.requests.length, before);
});

test('the setting picks claude-code; a tool the agent file does not grant is not there to use', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'sheller', prompt: 'run something' });
  const out = await runner({ runtime: () => 'claude-code' }).execute(store.attempt());
  assert.match(out.output, /bash said: .*No such tool available: Bash/);
  assert.ok(!existsSync(join(project.root, 'shell-ran.txt')));
});

test('user settings that allow every write without asking do not let a write leave the worktree (our hook decides first)', async () => {
  const permissive = makeClaudeCodeProject({ writer: { frontmatter: 'runtime: claude-code\ntools: Read, Write\n', prompt: 'You are the note writer.' } });
  // Claude Code would then never call canUseTool for these writes.
  writeFileSync(
    join(permissive.configDir, 'settings.json'),
    JSON.stringify({ permissions: { allow: ['Write', 'Write(//**)', 'Edit'], defaultMode: 'acceptEdits' } }),
  );
  const store = new InMemoryTaskStore(permissive.root, { kind: 'agent', agent: 'writer', prompt: 'write the notes' });
  const out = await new AgentRunner({ env: permissive.env(server) }).execute(store.attempt());
  assert.equal(out.output, 'Wrote notes/hello.txt. Second write: refused.');
  assert.ok(!existsSync(join(permissive.outer, 'escape.txt')), 'Claude Code wrote outside its worktree');
  assert.equal(readFileSync(join(permissive.root, 'notes/hello.txt'), 'utf8'), 'inside the worktree\n');
});

test('cancelling interrupts Claude Code and stops its process group', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'slow', prompt: 'take your time' });
  const controller = new AbortController();
  const running = runner().execute(store.attempt(controller.signal));
  await until('the agent to think', () => store.log.includes('Thinking very hard'), 30_000);
  const started = Date.now();
  controller.abort('cancelled');
  await assert.rejects(running, (e: unknown) => e instanceof TaskError && e.message === 'agent cancelled' && !e.retryable);
  assert.ok(Date.now() - started < 8_000);
  const pid = store.pids.at(-1)!;
  await until(`pid ${pid} to be gone`, () => !alive(pid), 5_000);
});

test('a checkpointed session that Claude Code no longer has: the task starts over in a new session', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'writer', prompt: 'write the notes' });
  const gone = randomUUID();
  store.checkpoint = { version: 1, runtime: 'claude-code', agent: 'writer', sessionId: gone, turn: 3 };
  const out = await runner().execute(store.attempt());
  assert.equal(out.output, 'Wrote notes/hello.txt. Second write: refused.');
  assert.match(store.log, new RegExp(`session ${gone} could not be resumed; starting over`));
  const cp = store.checkpoint as { sessionId: string };
  assert.notEqual(cp.sessionId, gone);
});

test('without Claude Code the task fails at once, saying what to install', async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'writer', prompt: 'x' });
  await assert.rejects(
    runner({ claudeCodePath: join(project.outer, 'no-such-claude') }).execute(store.attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /orchestr8\.claudeCodePath: no executable at/.test(e.message),
  );
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const bubblewrap = ['bwrap', 'socat', 'rg'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
if (!bubblewrap) console.warn('\n*** SKIPPED: Claude Code Bash sandbox test needs bwrap, socat and rg (apt-get install bubblewrap socat ripgrep) ***\n');

test("a granted Bash runs in Claude Code's OS sandbox under our rules: it writes in the worktree, never outside", {
  skip: !bubblewrap,
  timeout: 120_000,
}, async () => {
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'boxed', prompt: 'use the shell' });
  const out = await runner().execute(store.attempt());
  assert.equal(readFileSync(join(project.root, 'inside.txt'), 'utf8'), 'in\n', `inside write: ${out.output}`);
  assert.ok(!existsSync(join(project.outer, 'bash-escape.txt')), `Bash wrote outside its worktree: ${out.output}`);
  assert.deepEqual(store.sandboxed, [true], 'the task says it ran sandboxed');
});
