import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, CreateTaskResultSchema, TaskStatusNotificationSchema, type Task } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer } from '../../src/servers/mcp/mcp-server.ts';
import { StateFolderAccess } from '../../src/servers/mcp/state-access.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'src/cli/cli.ts');
// The server runs in the project folder, where `--import tsx` would not resolve: pass the loader by URL.
const TSX = import.meta.resolve('tsx');

/** `tools/call` as an MCP task (`params.task`): the server answers with the task handle, not the result. */
async function callAsTask(client: Client, args: Record<string, unknown>): Promise<Task> {
  const created = await client.request({ method: 'tools/call', params: { name: 'task_run', arguments: args, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
  return created.task;
}

/** The text of a tool result (task_result's JSON report). */
function reportOf(result: { content: unknown[] }): any {
  return JSON.parse((result.content as { text: string }[]).map((c) => c.text).join(''));
}

describe('task_run as an MCP task, over an in-memory transport to the real server and engine', () => {
  const root = tempDir('o8-mcp-tasks-');
  const access = new StateFolderAccess({ stateDir: path.join(root, '.orchestr8', 'state'), cwd: root, command: 'mcp-tasks test' });
  const mcp = createMcpServer({ host: { use: (fn, mode) => access.use(fn, mode), onEvent: access.onEvent, root }, version: '0.0.0' });
  const client = new Client({ name: 'tasks-test', version: '1.0.0' });
  const statuses: Task[] = [];

  before(async () => {
    const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
    await mcp.server.connect(serverSide);
    await client.connect(clientSide);
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => void statuses.push(n.params as Task));
  });
  after(async () => {
    await client.close();
    mcp.dispose();
    await access.close();
  });

  it('declares the tasks capability and task_run with optional task support, beside task_async', async () => {
    assert.deepEqual(client.getServerCapabilities()?.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const { tools } = await client.listTools();
    const taskRun = tools.find((t) => t.name === 'task_run')!;
    assert.deepEqual(taskRun.execution, { taskSupport: 'optional' });
    const taskAsync = tools.find((t) => t.name === 'task_async')!;
    assert.deepEqual(taskRun.inputSchema, taskAsync.inputSchema, 'the same arguments as task_async');
  });

  it('lists no tasks before the first launch (there is no state yet)', async () => {
    assert.deepEqual((await client.experimental.tasks.listTasks()).tasks, []);
  });

  it('returns the handle at once, then follows it with tasks/get, notifications/tasks/status and tasks/result', async () => {
    // The task ends when the test lets it, not after a sleep a slow first query could outlast.
    const release = path.join(root, 'greeting.release');
    const task = await callAsTask(client, { run: `while [ ! -e '${release}' ]; do sleep 0.05; done; echo "hello as a task"`, name: 'greeting' });
    assert.match(task.taskId, /^[0-9a-f]{12}$/, 'the handle is the run id');
    assert.equal(task.status, 'working', 'answered before the command could have finished');
    assert.equal(task.ttl, null, 'kept until the run is cleared');

    const working = await client.experimental.tasks.getTask(task.taskId);
    assert.equal(working.status, 'working');
    assert.equal(working.createdAt, task.createdAt);
    fs.writeFileSync(release, '');

    await until('the status notification', () => statuses.some((s) => s.taskId === task.taskId && s.status === 'completed'));
    const done = await client.experimental.tasks.getTask(task.taskId);
    assert.equal(done.status, 'completed');

    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    assert.equal(result.isError, undefined);
    assert.deepEqual(reportOf(result), { id: `${task.taskId}.task`, state: 'completed', output: 'hello as a task', exitCode: 0 });
    assert.deepEqual(result._meta?.['io.modelcontextprotocol/related-task'], { taskId: task.taskId });
  });

  it('tasks/result waits for an unfinished task and hands over its result', async () => {
    const task = await callAsTask(client, { run: 'sleep 0.3; echo waited' });
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    assert.equal(reportOf(result).output, 'waited');
  });

  it('called plainly, task_run waits for the task and returns its result', async () => {
    const result = await client.callTool({ name: 'task_run', arguments: { run: 'sleep 0.2; echo plainly' } });
    assert.equal(result.isError, undefined);
    assert.equal(reportOf(result as { content: unknown[] }).output, 'plainly');
  });

  it('a failing command is a failed task whose result is an error', async () => {
    const task = await callAsTask(client, { run: 'echo broken >&2; exit 3' });
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    assert.equal(result.isError, true);
    const failed = await client.experimental.tasks.getTask(task.taskId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.statusMessage, 'echo broken >&2; exit 3: exited with code 3: broken', 'names the failed task and why');
  });

  it('tasks/cancel cancels the run behind a task', async () => {
    const task = await callAsTask(client, { run: 'sleep 30' });
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal((await client.experimental.tasks.getTask(task.taskId)).status, 'cancelled');
    const run = await access.use((api) => api.status(task.taskId));
    assert.deepEqual([run.run.state, run.tasks[0]!.state], ['cancelled', 'cancelled'], 'the engine run itself is cancelled');
    await until('the cancelled notification', () => statuses.some((s) => s.taskId === task.taskId && s.status === 'cancelled'));
    await assert.rejects(client.experimental.tasks.cancelTask(task.taskId), /Cannot cancel task in terminal status: cancelled/);
  });

  it('a run whose wait task waits for its signal is working, and says what to signal', async () => {
    fs.mkdirSync(path.join(root, '.orchestr8', 'workflows'), { recursive: true });
    fs.writeFileSync(path.join(root, '.orchestr8', 'workflows', 'hold.yaml'), 'name: hold\ntasks:\n  approve:\n    wait: approval\n');
    const task = await callAsTask(client, { workflow: 'hold' });
    await until('the wait', async () => (await client.experimental.tasks.getTask(task.taskId)).statusMessage !== undefined);
    const waiting = await client.experimental.tasks.getTask(task.taskId);
    assert.deepEqual([waiting.status, waiting.statusMessage], ['working', `waiting for a signal: orchestr8 signal ${task.taskId}.approve`]);
    await client.experimental.tasks.cancelTask(task.taskId);
  });

  it('tasks/list pages through every run; an unknown handle is an error', async () => {
    const seen: Task[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.experimental.tasks.listTasks(cursor);
      seen.push(...page.tasks);
      cursor = page.nextCursor;
    } while (cursor);
    const { total } = await access.use((api) => api.list());
    assert.equal(seen.length, total);
    assert.deepEqual(new Set(seen.map((t) => t.status)), new Set(['completed', 'failed', 'cancelled']));
    await assert.rejects(client.experimental.tasks.getTask('000000000000'), /Task not found/);
    // A unique prefix names a run for the engine; never a task handle.
    await assert.rejects(client.experimental.tasks.getTask(seen[0]!.taskId.slice(0, 6)), /Task not found/);
  });
});

/** The SDK's client over the stdio of a real `orchestr8 mcp` process in `root`. */
async function serverProcess(root: string): Promise<{ client: Client; pid: number; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', TSX, CLI, 'mcp'], cwd: root, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'tasks-restart-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid!, stderr: () => stderr };
}

describe('an MCP task handle across a restart of the `orchestr8 mcp` process', () => {
  const root = tempDir('o8-mcp-tasks-restart-');

  it('a second server process answers for the tasks of the first, which was killed', { timeout: 90_000 }, async () => {
    const first = await serverProcess(root);
    const done = await callAsTask(first.client, { run: 'echo before the restart' });
    const doneResult = await first.client.experimental.tasks.getTaskResult(done.taskId, CallToolResultSchema);
    assert.equal(reportOf(doneResult).output, 'before the restart');
    // Unfinished until the first server is gone: it waits for a file the test writes after the kill.
    const release = path.join(root, 'restart.release');
    const unfinished = await callAsTask(first.client, { run: `while [ ! -e '${release}' ]; do sleep 0.05; done; echo after the restart` });
    // A crash, not a goodbye: the process has no chance to finish its run.
    process.kill(first.pid, 'SIGKILL');
    await until('the first server to die', () => {
      try {
        process.kill(first.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await first.client.close().catch(() => {});
    fs.writeFileSync(release, '');

    const second = await serverProcess(root);
    try {
      assert.notEqual(second.pid, first.pid);
      const again = await second.client.experimental.tasks.getTask(done.taskId);
      assert.deepEqual(
        { taskId: again.taskId, status: again.status, createdAt: again.createdAt },
        { taskId: done.taskId, status: 'completed', createdAt: done.createdAt },
        `the same task; second server stderr:\n${second.stderr()}`,
      );
      const result = await second.client.experimental.tasks.getTaskResult(done.taskId, CallToolResultSchema);
      assert.equal(reportOf(result).output, 'before the restart');
      const listed = (await second.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId).sort();
      assert.deepEqual(listed, [done.taskId, unfinished.taskId].sort());

      // The interrupted run is still a task, and asking for it makes this server, now that nobody runs it, resume it.
      assert.equal((await second.client.experimental.tasks.getTask(unfinished.taskId)).createdAt, unfinished.createdAt);
      const resumed = await second.client.experimental.tasks.getTaskResult(unfinished.taskId, CallToolResultSchema, { timeout: 30_000 });
      assert.equal(reportOf(resumed).output, 'after the restart', second.stderr());
    } finally {
      await second.client.close();
    }
  });
});
