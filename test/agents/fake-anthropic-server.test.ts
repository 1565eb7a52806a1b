import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { makeAgentProject, type AgentProject } from '../support/agent-project.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';

let server: FakeAnthropicServer;
let project: AgentProject;
before(async () => {
  server = await FakeAnthropicServer.start();
  project = await makeAgentProject({ talker: {} });
});
after(async () => {
  await server.close();
  await project.dispose();
});

const post = (body: unknown, key = server.apiKey) =>
  fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('binds 127.0.0.1 and requires the API key', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await post({ model: 'm', max_tokens: 1, messages: [] }, 'sk-wrong');
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  assert.equal((await fetch(`${server.url}/v1/other`, { method: 'POST', headers: { 'x-api-key': server.apiKey } })).status, 404);
});

test('SSE follows the real event sequence, with tool_use input as JSON deltas and usage', async () => {
  server.enqueue(
    toolReply([{ name: 'read_file', input: { path: 'a-rather-long-file-name-to-split.txt' } }], {
      text: 'Reading.',
      usage: { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 5 },
    }),
  );
  const res = await post({ model: 'claude-sonnet-5-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const events = (await res.text())
    .trim()
    .split('\n\n')
    .map((chunk) => {
      const [event, data] = chunk.split('\n') as [string, string];
      return { event: event.slice(7), data: JSON.parse(data.slice(6)) as Record<string, any> };
    });
  const names = events.map((e) => e.event);
  assert.deepEqual(names.slice(0, 4), ['message_start', 'ping', 'content_block_start', 'content_block_delta']);
  assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
  assert.equal(names.filter((n) => n === 'content_block_start').length, 2);
  assert.equal(names.filter((n) => n === 'content_block_stop').length, 2);
  for (const e of events) assert.equal(e.data.type, e.event);
  const start = events[0]!.data.message;
  assert.equal(start.usage.input_tokens, 11);
  assert.equal(start.usage.cache_read_input_tokens, 5);
  const json = events.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json as string);
  assert.ok(json.length > 1, 'tool input was not split into deltas');
  assert.deepEqual(JSON.parse(json.join('')), { path: 'a-rather-long-file-name-to-split.txt' });
  const delta = events.at(-2)!.data;
  assert.equal(delta.delta.stop_reason, 'tool_use');
  assert.equal(delta.usage.output_tokens, 7);
});

test('JSON (non-streaming) answers carry the whole message', async () => {
  server.enqueue(textReply('plain'));
  const res = await post({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  const message = (await res.json()) as Record<string, any>;
  assert.equal(message.type, 'message');
  assert.deepEqual(message.content, [{ type: 'text', text: 'plain' }]);
  assert.equal(message.stop_reason, 'end_turn');
  assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
});

test('a slow stream reaches the task log piece by piece, before the turn ends', async () => {
  const text = 'This answer arrives slowly, one small chunk after another, like a real model streaming.';
  server.enqueue(textReply(text, { chunkDelayMs: 60 }));
  const store = new InMemoryTaskStore(project.root, { kind: 'agent', agent: 'talker', prompt: 'talk' });
  const seen: number[] = [];
  const ctx = store.attempt();
  const log = ctx.log.bind(ctx);
  const running = new AgentRunner({ apiKey: server.apiKey, baseURL: server.url, env: {} }).execute({
    ...ctx,
    log: (t) => {
      if (t && text.includes(t)) seen.push(Date.now());
      log(t);
    },
  });
  const out = await running;
  assert.equal(out.output, text);
  assert.ok(seen.length >= 3, `text came in ${seen.length} pieces`);
  assert.ok(seen.at(-1)! - seen[0]! >= 100, 'pieces did not arrive over time');
});
