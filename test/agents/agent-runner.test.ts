import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { AgentRunner, type AgentRunnerOptions } from '../../src/core/agents/agent-runner.ts';
import { DEFAULT_AGENT_MODEL } from '../../src/core/agents/agent-model.ts';
import { TaskError } from '../../src/core/runners/task-runner.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeAgentProject, type AgentProject } from '../support/agent-project.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { stillHolds, until } from '../support/until.ts';

let server: FakeAnthropicServer;
let project: AgentProject;

before(async () => {
  server = await FakeAnthropicServer.start();
  project = await makeAgentProject(
    {
      editor: { prompt: 'You edit code carefully.' },
      limited: { frontmatter: 'max_turns: 2\n' },
      old: { frontmatter: 'model: claude-sonnet-4-5\n' },
      gate: { frontmatter: 'tools: Read, Write\n' },
    },
    { 'src/app.ts': 'export const greeting = "hello";\n' },
  );
});
after(async () => {
  await server.close();
  await project.dispose();
});
beforeEach(() => {
  assert.equal(server.pending, 0, 'a previous test left scripted responses unused');
  server.requests.length = 0;
});

function runner(extra: AgentRunnerOptions = {}): AgentRunner {
  return new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, maxRetries: 2, env: {}, ...extra });
}

function storeFor(agent: string, prompt = 'do the thing'): InMemoryTaskStore {
  return new InMemoryTaskStore(project.root, { kind: 'agent', agent, prompt });
}

test('multi-turn tool loop edits a file; streamed to the log; checkpointed per turn; cached prefix', async () => {
  server.enqueue(
    toolReply([{ name: 'read_file', input: { path: 'src/app.ts' } }], { text: 'Let me look.' }),
    toolReply([{ name: 'edit_file', input: { path: 'src/app.ts', old_string: '"hello"', new_string: '"hello, world"' } }]),
    textReply('Changed the greeting to "hello, world".'),
  );
  const store = storeFor('editor', 'Make the greeting say hello, world');
  const out = await runner().execute(store.attempt());

  assert.equal(out.output, 'Changed the greeting to "hello, world".');
  assert.equal(await readFile(join(project.root, 'src/app.ts'), 'utf8'), 'export const greeting = "hello, world";\n');
  assert.equal(server.requests.length, 3);
  const second = server.requests[1]!.body;
  assert.equal(second.model, DEFAULT_AGENT_MODEL);
  assert.equal(second.stream, true);
  // The second request carries the tool result of the first turn.
  const toolResult = (second.messages.at(-1)!.content as Array<Record<string, unknown>>)[0]!;
  assert.equal(toolResult.type, 'tool_result');
  assert.match(String(toolResult.content), /export const greeting = "hello";/);
  // Prompt caching: system, last tool, and the conversation tail carry cache_control.
  const system = second.system as Array<{ cache_control?: unknown; text: string }>;
  assert.deepEqual(system[0]!.cache_control, { type: 'ephemeral' });
  assert.match(system[0]!.text, /You edit code carefully\./);
  assert.deepEqual(second.tools!.at(-1)!.cache_control, { type: 'ephemeral' });
  assert.equal(second.tools!.filter((t) => t.cache_control).length, 1);
  assert.deepEqual(toolResult.cache_control, { type: 'ephemeral' });
  assert.ok(!second.tools!.some((t) => t.name === 'run_command'), 'shell offered without being granted');
  // Live log: text deltas and tool calls.
  assert.match(store.log, /Let me look\./);
  assert.match(store.log, /→ edit_file/);
  assert.match(store.log, /← edit_file: edited src\/app\.ts/);
  // One checkpoint per model turn and per tool batch; the last holds the whole conversation, without cache marks.
  assert.equal(store.checkpointWrites, 5);
  const cp = store.checkpoint as { turn: number; messages: unknown[] };
  assert.equal(cp.turn, 3);
  assert.equal(cp.messages.length, 6);
  assert.ok(!JSON.stringify(cp.messages).includes('cache_control'));
});

test('token and cost figures equal the server usage', async () => {
  const usages = [
    { input_tokens: 1200, output_tokens: 80, cache_creation_input_tokens: 3000, cache_read_input_tokens: 0 },
    { input_tokens: 150, output_tokens: 40, cache_creation_input_tokens: 200, cache_read_input_tokens: 3000 },
  ];
  server.enqueue(toolReply([{ name: 'list_files', input: { pattern: '**/*.ts' } }], { usage: usages[0] }), textReply('src/app.ts', { usage: usages[1] }));
  const store = storeFor('editor');
  await runner().execute(store.attempt());
  // claude-sonnet-5-5: $2 in, $10 out, $2.50 cache write, $0.10 cache read per MTok.
  const expected = usages.map((u) => (u.input_tokens * 2 + u.output_tokens * 10 + u.cache_creation_input_tokens * 2.5 + u.cache_read_input_tokens * 0.1) / 1e6);
  assert.deepEqual(
    store.usage.map(({ costUsd, ...rest }) => rest),
    usages.map((u, i) => ({
      turn: i + 1,
      model: DEFAULT_AGENT_MODEL,
      inputTokens: u.input_tokens,
      outputTokens: u.output_tokens,
      cacheWriteTokens: u.cache_creation_input_tokens,
      cacheReadTokens: u.cache_read_input_tokens,
    })),
  );
  for (const [i, u] of store.usage.entries()) assert.ok(Math.abs(u.costUsd - expected[i]!) < 1e-12, `turn ${i + 1}: ${u.costUsd} != ${expected[i]}`);
});

test('cancellation mid-stream aborts the HTTP stream at once', async () => {
  server.enqueue({ kind: 'stall', text: 'Thinking about it' });
  const store = storeFor('editor');
  const controller = new AbortController();
  const started = Date.now();
  const running = runner().execute(store.attempt(controller.signal));
  await until('the stream to start', () => store.log.includes('Thinking about it'), 10_000);
  controller.abort('cancelled');
  await assert.rejects(running, (e: unknown) => e instanceof TaskError && /agent cancelled/.test(e.message) && e.retryable === false);
  assert.ok(Date.now() - started < 3000);
  assert.equal(server.requests.length, 1, 'the SDK retried a cancelled request');
  assert.equal(store.usage.length, 0);
});

test('429 with retry-after, then success: the SDK waits and retries', async () => {
  server.enqueue({ kind: 'error', status: 429, retryAfterSeconds: 1 }, textReply('ok after 429'));
  const store = storeFor('editor');
  const started = Date.now();
  const out = await runner().execute(store.attempt());
  assert.equal(out.output, 'ok after 429');
  assert.equal(server.requests.length, 2);
  const waited = server.requests[1]!.at - server.requests[0]!.at;
  assert.ok(waited >= 950, `retried after ${waited} ms, before retry-after`);
  assert.ok(Date.now() - started < 5000);
});

test('529 overloaded and 500 are retried by the SDK', async () => {
  server.enqueue({ kind: 'error', status: 529, retryAfterSeconds: 0.1 }, { kind: 'error', status: 500 }, textReply('fine'));
  const out = await runner().execute(storeFor('editor').attempt());
  assert.equal(out.output, 'fine');
  assert.equal(server.requests.length, 3);
});

test('when SDK retries run out the attempt fails retryable (engine retries above); 400 is not retryable', async () => {
  server.enqueue({ kind: 'error', status: 500, retryAfterSeconds: 0 }, { kind: 'error', status: 500, retryAfterSeconds: 0 });
  await assert.rejects(
    runner({ maxRetries: 1 }).execute(storeFor('editor').attempt()),
    (e: unknown) => e instanceof TaskError && e.retryable && /500/.test(e.message),
  );
  server.enqueue({ kind: 'error', status: 400, message: 'bad request body' });
  await assert.rejects(
    runner().execute(storeFor('editor').attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /400.*bad request body/.test(e.message),
  );
});

test('a malformed stream fails the attempt as retryable', async () => {
  server.enqueue({ kind: 'malformed' });
  await assert.rejects(runner({ maxRetries: 0 }).execute(storeFor('editor').attempt()), (e: unknown) => e instanceof TaskError && e.retryable);
});

test('no API key: fails at once, not retryable, says how to set it; the key never reaches logs', async () => {
  const store = storeFor('editor');
  await assert.rejects(
    new AgentRunner({ baseURL: server.url, env: {} }).execute(store.attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /ANTHROPIC_API_KEY/.test(e.message) && /SecretStorage/.test(e.message),
  );
  assert.equal(server.requests.length, 0);

  // A wrong key: 401, not retryable, and neither key appears in the log.
  const wrong = storeFor('editor');
  await assert.rejects(
    new AgentRunner({ apiKey: 'sk-wrong-key-123', baseURL: server.url, env: {} }).execute(wrong.attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /401/.test(e.message) && !e.message.includes('sk-wrong-key-123'),
  );
  const ok = storeFor('editor');
  server.enqueue(textReply('hi'));
  await new AgentRunner({ apiKey: () => Promise.resolve(server.apiKey), env: { ANTHROPIC_BASE_URL: server.url } }).execute(ok.attempt());
  for (const s of [wrong, ok]) {
    const all = s.log + s.logger.lines.join('\n') + JSON.stringify(s.checkpoint ?? '');
    assert.ok(!all.includes('sk-wrong-key-123') && !all.includes(server.apiKey));
  }
});

test('a new attempt resumes from the checkpoint without repeating finished turns', async () => {
  server.enqueue(toolReply([{ name: 'write_file', input: { path: 'notes/one.txt', content: 'turn one' } }]), {
    kind: 'error',
    status: 400,
    message: 'simulated failure in turn 2',
  });
  const store = storeFor('editor', 'write notes');
  await assert.rejects(runner().execute(store.attempt()), /simulated failure/);
  assert.equal(server.requests.length, 2);

  server.enqueue(textReply('notes written'));
  const out = await runner().execute(store.attempt());
  assert.equal(out.output, 'notes written');
  assert.equal(server.requests.length, 3, 'turn 1 was paid for again');
  const resumed = server.requests[2]!.body.messages;
  assert.equal(resumed.length, 3);
  assert.equal(resumed[0]!.content, 'write notes');
  assert.deepEqual(
    store.usage.map((u) => u.turn),
    [1, 2],
  );
  assert.match(store.log, /resuming from checkpoint after turn 1/);
});

test('max_turns stops a looping agent (not retryable)', async () => {
  server.enqueue(toolReply([{ name: 'list_files', input: {} }]), toolReply([{ name: 'list_files', input: {} }]));
  await assert.rejects(
    runner().execute(storeFor('limited').attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /limit of 2 turns/.test(e.message),
  );
  assert.equal(server.requests.length, 2);
});

test('the SDK deprecation warning for the agent model reaches the task log and the logger', async () => {
  server.enqueue(textReply('old but working'));
  const store = storeFor('old');
  await runner().execute(store.attempt());
  assert.equal(server.requests[0]!.body.model, 'claude-sonnet-4-5');
  assert.match(store.log, /warning from the Anthropic SDK: The model 'claude-sonnet-4-5' is deprecated and will reach end-of-life on November 30th, 2026/);
  assert.ok(store.logger.lines.some((l) => l.startsWith('warn: ') && l.includes('claude-sonnet-4-5')));
});

test('refused tool calls go back to the model as errors; record_verdict records the gate', async () => {
  server.enqueue(
    toolReply([
      { name: 'read_file', input: { path: '../../etc/passwd' } },
      { name: 'run_command', input: { command: 'ls' } },
    ]),
    toolReply([
      { name: 'write_file', input: { path: 'reports/review.md', content: '# Review\nAll good.' } },
      { name: 'record_verdict', input: { verdict: 'warn', summary: 'minor nits', report_path: 'reports/review.md' } },
    ]),
    textReply('Review done.'),
  );
  const store = storeFor('gate');
  await runner().execute(store.attempt());
  const results = server.requests[1]!.body.messages.at(-1)!.content as Array<{ is_error?: boolean; content: string }>;
  assert.equal(results.length, 2);
  assert.ok(results[0]!.is_error && /refused/.test(results[0]!.content));
  assert.ok(results[1]!.is_error && /unknown tool run_command/.test(results[1]!.content));
  assert.deepEqual(store.gates, [{ gate: 'agent', verdict: 'warn', report: 'reports/review.md\nminor nits' }]);
});

test('unknown agent fails at once and lists the known ones', async () => {
  await assert.rejects(
    runner().execute(storeFor('nobody').attempt()),
    (e: unknown) => e instanceof TaskError && !e.retryable && /unknown agent "nobody".*editor/.test(e.message),
  );
});

/**
 * Holds the runner's saves as a journal would take them: each is taken at once (the store has it)
 * but acknowledged only when the test says so — the tool turn's usage and checkpoint on
 * `acknowledge`, the checkpoint after its tool results at once, the final turn's never.
 */
function holdSaves(store: InMemoryTaskStore) {
  const ctx = store.attempt();
  const saves: string[] = [];
  let acknowledge!: () => void;
  const released = new Promise<void>((resolve) => (acknowledge = resolve));
  const held =
    <A extends unknown[]>(name: string, save: (...args: A) => Promise<void>) =>
    (...args: A) => {
      saves.push(name);
      void save(...args);
      return saves.length <= 2 ? released : saves.length === 3 ? Promise.resolve() : new Promise<void>(() => {});
    };
  ctx.saveCheckpoint = held('checkpoint', ctx.saveCheckpoint.bind(ctx));
  ctx.recordUsage = held('usage', ctx.recordUsage.bind(ctx));
  return { ctx, saves, acknowledge };
}

async function finalAnswer(out: Promise<{ output: string }>, store: InMemoryTaskStore, text: string): Promise<void> {
  const result = await Promise.race([out, new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5000))]);
  assert.notEqual(result, 'waited', 'the final answer waited for its saves');
  assert.equal((result as { output: string }).output, text);
  assert.equal(store.usage.length, 2, "the final turn's usage was handed over before the runner returned");
  assert.equal((store.checkpoint as { turn: number }).turn, 2, 'so was its checkpoint');
}

test("a tool with side effects waits until its turn is saved; the final answer does not wait for its own turn's saves", async () => {
  server.enqueue(toolReply([{ name: 'write_file', input: { path: 'held/out.txt', content: 'x' } }]), textReply('Wrote it.'));
  const store = storeFor('editor');
  const { ctx, saves, acknowledge } = holdSaves(store);
  const out = runner().execute(ctx);

  await until('the tool turn’s saves', () => saves.length >= 2, 10_000);
  // Nothing positive follows while the saves are held: watch that nothing moves for a while.
  const written = () =>
    readFile(join(project.root, 'held/out.txt'), 'utf8').then(
      () => true,
      () => false,
    );
  await stillHolds(
    'no write and no next request before the tool turn is saved',
    () => server.requests.length === 1 && !store.log.includes('← write_file'),
    100,
  );
  assert.equal(await written(), false, 'the file was written before the turn asking for it was durable');
  acknowledge();

  await finalAnswer(out, store, 'Wrote it.');
  assert.equal(await written(), true);
});

test('read-only tools run while their turn is being saved, side by side; the next request still waits for the save', async () => {
  server.enqueue(
    toolReply([
      { name: 'read_file', input: { path: 'src/app.ts' } },
      { name: 'list_files', input: { pattern: 'src/*' } },
    ]),
    textReply('Read them.'),
  );
  const store = storeFor('editor');
  const { ctx, saves, acknowledge } = holdSaves(store);
  const out = runner().execute(ctx);

  await until('both reads ran with the turn not yet saved', () => store.log.includes('← read_file') && store.log.includes('← list_files'), 10_000);
  assert.equal(saves.length, 2, 'the tool results wait for the turn: only its usage and checkpoint were handed over');
  await stillHolds('no next request before the tool turn is saved', () => server.requests.length === 1, 100);
  acknowledge();

  await finalAnswer(out, store, 'Read them.');
  const results = server.requests[1]!.body.messages.at(-1)!.content as { tool_use_id: string; content: string }[];
  assert.match(results[0]!.content, /greeting/, 'results in the order of the calls');
  assert.match(results[1]!.content, /src\/app\.ts/);
});
