import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ApiClient } from '../../src/servers/http/api-client.ts';
import { ApiServer } from '../../src/servers/http/api-server.ts';
import { createMcpServer } from '../../src/servers/mcp/mcp-server.ts';
import { StateFolderAccess } from '../../src/servers/mcp/state-access.ts';
import { openEngine } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

// Top level: `openEngine` registers its `after` where it is called, and inside `before` that would close the engine at once.
const { engine, stateDir } = await openEngine();

/** A single-task launch with a budget: the task's record carries it, as a workflow file's `budget:` would. */
describe('a budget on a single-task launch', () => {
  describe('over HTTP (POST /v1/tasks, a real server on 127.0.0.1)', () => {
    let server: ApiServer;
    before(async () => {
      server = await ApiServer.start({ engine, stateDir, cwd: path.dirname(stateDir) });
    });
    after(() => server.close());

    const post = async (body: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    };

    it('the body field `budget` becomes the task’s budget; the API client (the CLI’s way to a live owner) passes it on', async () => {
      const launched = await post({ agent: 'reviewer', prompt: 'Review src/', budget: { usd: 0.5, tokens: 20000 } });
      assert.equal(launched.status, 202, JSON.stringify(launched.json));
      assert.deepEqual((await engine.task(launched.json.id)).budget, { usd: 0.5, tokens: 20000 });

      const client = new ApiClient({ url: `http://127.0.0.1:${server.port}`, token: server.token });
      const viaClient = await client.launch({ task: { action: { kind: 'agent', agent: 'reviewer', prompt: 'again' }, budget: { tokens: 5000 } } });
      assert.deepEqual((await engine.task(viaClient.taskIds[0]!)).budget, { tokens: 5000 });
    });

    it('a bad budget is a 400 that names what is wrong, and launches nothing', async () => {
      const before = (await engine.list()).total;
      const cases: [unknown, RegExp][] = [
        [{ agent: 'a', prompt: 'p', budget: { usd: -1 } }, /budget\.usd/],
        [
          { agent: 'a', prompt: 'p', budget: { usd: 'five', tokens: 1.5 } },
          /expected number, received string[\s\S]*budget\.usd[\s\S]*expected int[\s\S]*budget\.tokens/,
        ],
        [{ agent: 'a', prompt: 'p', budget: { dollars: 5 } }, /Unrecognized key: "dollars"[\s\S]*budget/],
        [{ agent: 'a', prompt: 'p', budget: {} }, /a budget gives usd, tokens or both/],
        [{ run: 'echo hi', budget: { usd: 1 } }, /a budget \("budget"\) applies to an agent task only, not to a shell command/],
      ];
      for (const [body, message] of cases) {
        const r = await post(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.error.code, 'invalid_request');
        assert.match(r.json.error.message, message, JSON.stringify(body));
      }
      assert.equal((await engine.list()).total, before);
    });
  });

  describe('over MCP (task_async) and the language-model tools that share its schema', () => {
    const root = tempDir('o8-mcp-budget-');
    const access = new StateFolderAccess({ stateDir: path.join(root, '.orchestr8', 'state'), cwd: root, command: 'launch-budget test' });
    const mcp = createMcpServer({ host: { use: (fn, mode) => access.use(fn, mode), onEvent: access.onEvent, root }, version: '0.0.0' });
    const client = new Client({ name: 'budget-test', version: '1.0.0' });
    before(async () => {
      const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
      await mcp.server.connect(serverSide);
      await client.connect(clientSide);
    });
    after(async () => {
      await client.close();
      mcp.dispose();
      await access.close();
    });

    const call = async (args: Record<string, unknown>) => {
      const result = (await client.callTool({ name: 'task_async', arguments: args })) as { isError?: boolean; content: { text: string }[] };
      return { isError: result.isError ?? false, text: result.content.map((c) => c.text).join('') };
    };

    it('budget_usd / budget_tokens become the task’s budget; on a shell command or a bad value they are refused', async () => {
      const launched = await call({ agent: 'reviewer', prompt: 'Review src/', budget_usd: 0.25, budget_tokens: 8000 });
      assert.equal(launched.isError, false, launched.text);
      const { taskId } = JSON.parse(launched.text) as { taskId: string };
      assert.deepEqual((await access.use((api) => api.task(taskId))).budget, { usd: 0.25, tokens: 8000 });

      const onShell = await call({ run: 'echo hi', budget_usd: 1 });
      assert.deepEqual([onShell.isError, onShell.text], [true, 'a budget (budget_usd, budget_tokens) applies to an agent task only, not to a shell command']);
      const negative = await call({ agent: 'reviewer', prompt: 'p', budget_usd: -1 });
      assert.equal(negative.isError, true);
      assert.match(negative.text, /budget_usd/);
    });
  });
});
