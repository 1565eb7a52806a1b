import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createMcpServer } from '../../src/servers/mcp/mcp-server.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import { StateFolderAccess } from '../../src/servers/mcp/state-access.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'src/cli/cli.ts');
// The server runs in the project folder, where `--import tsx` would not resolve: pass the loader by URL.
const TSX = import.meta.resolve('tsx');

const GREET = `name: greet
description: Says hello, then passes it on
inputs:
  who: { description: Whom to greet, required: true }
tasks:
  hello:
    run: echo "hello \${inputs.who}"
  relay:
    run: echo "relayed \${tasks.hello.result}"
    needs: hello
`;

/** The SDK's own client, speaking MCP over the stdio of a real `orchestr8 mcp` process in `root`. */
async function connect(root: string): Promise<{ client: Client; stderr: () => string; pid: number }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', TSX, CLI, 'mcp'], cwd: root, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'orchestr8-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, pid: transport.pid! };
}

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ isError: boolean; text: string; json: () => any }> {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = result.content.map((c) => c.text).join('');
  return { isError: result.isError ?? false, text, json: () => JSON.parse(text) };
}

describe('orchestr8 mcp over stdio, driven by the MCP SDK client', () => {
  const root = tempDir('o8-mcp-');
  const notes: { level: string; data: any }[] = [];
  const updated: string[] = [];
  let client: Client;
  let stderr: () => string;
  let pid: number;

  before(async () => {
    fs.mkdirSync(path.join(root, '.orchestr8', 'workflows'), { recursive: true });
    fs.writeFileSync(path.join(root, '.orchestr8', 'workflows', 'greet.yaml'), GREET);
    fs.writeFileSync(path.join(root, '.orchestr8', 'workflows', 'broken.yml'), 'name: broken\ntasks:\n  a:\n    run: echo\n    needs: nope\n');
    ({ client, stderr, pid } = await connect(root));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notes.push({ level: n.params.level, data: n.params.data }));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
  });
  after(async () => {
    await client.close();
  });

  const serverSaid = () => `server stderr:\n${stderr()}`;

  it('lists no resources before the first launch (there is no state yet)', async () => {
    assert.deepEqual((await client.listResources()).resources, []);
    assert.equal((await call(client, 'task_status', { id: 'abc' })).text, `no runs yet (no state in ${path.join(root, '.orchestr8', 'state')})`);
  });

  it('lists the fire-and-forget tools, and task_run for MCP tasks', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'run_pause',
      'run_resume',
      'task_answer',
      'task_async',
      'task_cancel',
      'task_continue',
      'task_result',
      'task_run',
      'task_status',
      'workflow_launch',
      'workflow_list',
    ]);
    const taskAsync = tools.find((t) => t.name === 'task_async')!;
    assert.deepEqual(Object.keys(taskAsync.inputSchema.properties ?? {}).sort(), [
      'agent',
      'budget_tokens',
      'budget_usd',
      'inputs',
      'name',
      'prompt',
      'retries',
      'run',
      'timeout',
      'workflow',
    ]);
  });

  it('launches a task, returns its id at once, announces its end, and hands over its result', async () => {
    // The task ends when the test lets it, not after a sleep a slow first query could outlast.
    const release = path.join(root, 'greeting.release');
    const launched = await call(client, 'task_async', { run: `while [ ! -e '${release}' ]; do sleep 0.05; done; echo "hello from mcp"`, name: 'greeting' });
    assert.equal(launched.isError, false, launched.text);
    const { taskId, runId } = launched.json();
    assert.match(taskId, /^[0-9a-f]{12}\.task$/);
    assert.equal(taskId, `${runId}.task`);

    // Returned before the task could have finished: it is still running.
    const early = (await call(client, 'task_result', { id: taskId })).json();
    assert.ok(['queued', 'running'].includes(early.state), JSON.stringify(early));
    assert.match(early.note, /^not finished/);
    await client.subscribeResource({ uri: `orchestr8://tasks/${taskId}` });
    fs.writeFileSync(release, '');

    await until('the completion notification', () => notes.some((n) => n.data.event === 'task.completed' && n.data.taskId === taskId), 10_000, serverSaid);
    const note = notes.find((n) => n.data.taskId === taskId)!;
    assert.deepEqual(note, {
      level: 'info',
      data: { event: 'task.completed', taskId, runId, name: 'greeting', state: 'completed', hint: `read it with task_result { id: "${taskId}" }` },
    });
    await until('the resource update', () => updated.includes(`orchestr8://tasks/${taskId}`), 10_000, serverSaid);

    const result = await call(client, 'task_result', { id: taskId });
    assert.deepEqual(result.json(), { id: taskId, state: 'completed', output: 'hello from mcp', exitCode: 0 });

    const resource = await client.readResource({ uri: `orchestr8://tasks/${taskId}` });
    const body = JSON.parse((resource.contents[0] as { text: string }).text);
    assert.equal(body.task.state, 'completed');
    assert.equal(body.result.output, 'hello from mcp');
  });

  it('waits for a result with wait_seconds', async () => {
    const { taskId } = (await call(client, 'task_async', { run: 'sleep 0.2; echo late' })).json();
    const started = Date.now();
    const result = (await call(client, 'task_result', { id: taskId, wait_seconds: 10 })).json();
    assert.equal(result.output, 'late');
    assert.ok(Date.now() - started < 5000, 'woke up when the task ended, not at the deadline');
  });

  it('lists workflow files and launches one with inputs', async () => {
    const listed = (await call(client, 'workflow_list')).json();
    assert.deepEqual(listed[1], {
      file: '.orchestr8/workflows/greet.yaml',
      name: 'greet',
      description: 'Says hello, then passes it on',
      inputs: [{ name: 'who', required: true, description: 'Whom to greet' }],
      tasks: ['hello', 'relay'],
      problems: [],
    });
    assert.deepEqual(listed[0].problems, [".orchestr8/workflows/broken.yml:5:12: unknown need 'nope' (tasks: a)"]);

    const launched = (await call(client, 'workflow_launch', { file: 'greet', inputs: { who: 'mcp' } })).json();
    assert.deepEqual(launched.taskIds, [`${launched.runId}.hello`, `${launched.runId}.relay`]);
    const results = (await call(client, 'task_result', { id: launched.runId, wait_seconds: 20 })).json();
    assert.deepEqual(
      results.results.map((r: { id: string; output: string }) => [r.id, r.output]),
      [
        [`${launched.runId}.hello`, 'hello mcp'],
        [`${launched.runId}.relay`, 'relayed hello mcp'],
      ],
    );
    const viaTaskAsync = (await call(client, 'task_async', { workflow: 'greet.yaml', inputs: { who: 'again' } })).json();
    const again = (await call(client, 'task_result', { id: `${viaTaskAsync.runId}.relay`, wait_seconds: 20 })).json();
    assert.equal(again.output, 'relayed hello again');
    const status = (await call(client, 'task_status', { id: launched.runId })).json();
    assert.equal(status.run.state, 'completed');
    assert.equal(status.run.file, path.join(fs.realpathSync(root), '.orchestr8/workflows/greet.yaml'));
  });

  it('cancels a running task', async () => {
    const { taskId } = (await call(client, 'task_async', { run: 'sleep 30' })).json();
    const cancelled = (await call(client, 'task_cancel', { id: taskId })).json();
    assert.equal(cancelled.task.state, 'cancelled');
    assert.equal(cancelled.run.state, 'cancelled');
  });

  it('pauses and resumes a run; answering a task that asks nothing is an error naming its state', async () => {
    const { taskId, runId } = (await call(client, 'task_async', { run: 'sleep 30' })).json();
    const paused = (await call(client, 'run_pause', { id: runId })).json();
    assert.equal(paused.run.state, 'paused');
    const resumed = (await call(client, 'run_resume', { id: runId })).json();
    assert.equal(resumed.run.state, 'running');
    const answer = await call(client, 'task_answer', { id: taskId, decision: 'allow' });
    assert.equal(answer.isError, true);
    assert.match(answer.text, /asks nothing \(it is running\)/);
    await call(client, 'task_cancel', { id: taskId });
  });

  it('task_continue reaches the engine: a shell task is refused with why', async () => {
    const { taskId } = (await call(client, 'task_async', { run: 'echo once' })).json();
    await call(client, 'task_result', { id: taskId, wait_seconds: 20 });
    const refused = await call(client, 'task_continue', { id: taskId, prompt: 'and again' });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /is a run task; only an agent task continues a conversation/);
  });

  it('refuses bad requests with clear errors and launches nothing', async () => {
    const before = (await call(client, 'task_status', { id: 'nope' })).text;
    assert.equal(before, 'no run nope');
    const both = await call(client, 'task_async', { run: 'echo', agent: 'x', prompt: 'p' });
    assert.deepEqual([both.isError, both.text], [true, 'give exactly one of: agent (with prompt), run (a shell command), or workflow (with inputs)']);
    const noPrompt = await call(client, 'task_async', { agent: 'code-reviewer' });
    assert.deepEqual([noPrompt.isError, noPrompt.text], [true, 'agent code-reviewer needs a prompt (prompt)']);
    const broken = await call(client, 'workflow_launch', { file: 'broken.yml' });
    assert.equal(broken.isError, true);
    assert.match(broken.text, /broken\.yml:5:12: unknown need 'nope' \(tasks: a\)$/);
    const missing = await call(client, 'workflow_launch', { file: 'greet' });
    assert.match(missing.text, /missing required input 'who' \(Whom to greet\): give it a value/);
    const outside = await call(client, 'workflow_launch', { file: '../../etc/passwd' });
    assert.deepEqual([outside.isError, outside.text], [true, `workflow ../../etc/passwd is outside the project ${root}`]);
  });

  it('a second server reads the state while the first owns it, launches through its local API, names the owner when it serves none, and the owner lets go once idle', async () => {
    const stateDir = path.join(root, '.orchestr8', 'state');
    const lock = path.join(stateDir, 'owner.lock');
    const discovery = path.join(stateDir, 'api.json');
    const { taskId } = (await call(client, 'task_async', { run: 'sleep 30' })).json();
    assert.equal(JSON.parse(fs.readFileSync(lock, 'utf8')).pid, pid, 'the server owns the state while it has a run');
    assert.equal(JSON.parse(fs.readFileSync(discovery, 'utf8')).pid, pid, 'and serves the local API meanwhile');

    // In this process, over an in-memory transport, while the child server above owns the state.
    const access = new StateFolderAccess({ stateDir, cwd: root, command: 'second' });
    const second = createMcpServer({ host: { use: (fn, mode) => access.use(fn, mode), onEvent: access.onEvent, root }, version: '0.0.0' });
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    const reader = new Client({ name: 'second', version: '1.0.0' });
    try {
      await second.server.connect(serverSide);
      await reader.connect(clientSide);
      const status = (await call(reader, 'task_status', { id: taskId })).json();
      assert.equal(status.task.state, 'running', 'reads the live state of the owner');
      const viaApi = await call(reader, 'task_async', { run: 'echo through the owner' });
      assert.equal(viaApi.isError, false, viaApi.text);
      const result = (await call(reader, 'task_result', { id: viaApi.json().taskId, wait_seconds: 20 })).json();
      assert.deepEqual(result, { id: viaApi.json().taskId, state: 'completed', output: 'through the owner', exitCode: 0 });
      assert.equal(access.mode, 'read-only', 'the task ran in the owner, not here');

      // An owner that serves no API (an older version): the launch is refused, naming it.
      fs.rmSync(discovery);
      const refused = await call(reader, 'task_async', { run: 'echo hi' });
      assert.equal(refused.isError, true);
      assert.match(refused.text, new RegExp(`^state in .* is owned by pid ${pid} \\(orchestr8 mcp, started `));
      assert.equal(access.mode, 'read-only');
    } finally {
      await reader.close();
      second.dispose();
      await access.close();
    }

    await call(client, 'task_cancel', { id: taskId });
    await until('the owner to release the state', () => !fs.existsSync(lock));
  });
});

describe('orchestr8 mcp while a foreground `orchestr8 run` owns the state', () => {
  const root = tempDir('o8-mcp-owned-');
  const stateDir = path.join(root, '.orchestr8', 'state');
  let owner: ChildProcess;
  let ownerExit: Promise<number | null>;
  let ownerStderr = '';
  let client: Client;
  let stderr: () => string;
  const notes: { event: string; taskId: string }[] = [];

  before(async () => {
    fs.mkdirSync(path.join(root, '.orchestr8', 'workflows'), { recursive: true });
    fs.writeFileSync(path.join(root, '.orchestr8', 'workflows', 'greet.yaml'), GREET);
    fs.writeFileSync(path.join(root, 'hold.yaml'), 'name: hold\ntasks:\n  approve:\n    wait: approval\n');
    owner = spawn(process.execPath, ['--import', TSX, CLI, 'run', 'hold.yaml'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    owner.stderr!.on('data', (d: Buffer) => (ownerStderr += d.toString()));
    ownerExit = new Promise((resolve) => owner.on('exit', resolve));
    await until(
      'the owner to publish its API',
      () => fs.existsSync(path.join(stateDir, 'api.json')),
      30_000,
      () => `its stderr:\n${ownerStderr}`,
    );
    ({ client, stderr } = await connect(root));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notes.push(n.params.data as { event: string; taskId: string }));
  });
  after(async () => {
    await client?.close();
    owner?.kill();
  });

  it("launches a task and a workflow through the owner's API; they complete there; a cancel ends the owner's run", { timeout: 60_000 }, async () => {
    // The first command to this owner, and a task that ends at once: announced all the same.
    const launched = await call(client, 'task_async', { run: 'echo done by the owner' });
    assert.equal(launched.isError, false, `${launched.text}\n${stderr()}`);
    const { taskId } = launched.json();
    const result = (await call(client, 'task_result', { id: taskId, wait_seconds: 20 })).json();
    assert.deepEqual(result, { id: taskId, state: 'completed', output: 'done by the owner', exitCode: 0 });
    // Announced although it ran in the other process: its events come over the owner's API.
    await until(
      'the completion notification',
      () => notes.some((n) => n.event === 'task.completed' && n.taskId === taskId),
      10_000,
      () => JSON.stringify(notes),
    );
    assert.equal(JSON.parse(fs.readFileSync(path.join(stateDir, 'owner.lock'), 'utf8')).pid, owner.pid, 'the run process owns the state throughout');

    const wf = (await call(client, 'workflow_launch', { file: 'greet', inputs: { who: 'owner' } })).json();
    const relay = (await call(client, 'task_result', { id: `${wf.runId}.relay`, wait_seconds: 20 })).json();
    assert.equal(relay.output, 'relayed hello owner');

    const reader = await ReadOnlyEngine.open(stateDir);
    const hold = (await reader.list()).runs.find((r) => r.name === 'hold')!;
    await reader.close();
    const cancelled = (await call(client, 'task_cancel', { id: hold.id })).json();
    assert.equal(cancelled.run.state, 'cancelled');
    assert.equal(await ownerExit, 1, 'the foreground run ends (cancelled) and exits 1');
  });
});
