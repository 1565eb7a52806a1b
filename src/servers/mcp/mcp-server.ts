import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema, type CallToolResult, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { EngineEvent } from '../../core/model/events.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { DisposableStore } from '../../core/util/disposable.ts';
import { errorMessage, type Logger, silentLogger } from '../../core/util/logger.ts';
import { taskAsync, taskCancel, taskResult, taskStatus, workflowLaunch, workflowList, type ToolHost } from '../agent-tools/task-operations.ts';
import { idShape, taskAsyncShape, taskResultShape, workflowLaunchShape } from '../agent-tools/tool-schemas.ts';

/** Resource URIs: a client subscribed to one hears `notifications/resources/updated` when it changes state. */
export const taskUri = (taskId: string) => `orchestr8://tasks/${taskId}`;
export const runUri = (runId: string) => `orchestr8://runs/${runId}`;

/** The logger name of Orchestr8's `notifications/message`. */
export const MCP_LOGGER = 'orchestr8';

export interface Orchestr8McpOptions {
  host: ToolHost;
  version: string;
  logger?: Logger;
}

/**
 * The Orchestr8 MCP server: fire-and-forget tools (task_async, task_status,
 * task_result, task_cancel, workflow_list, workflow_launch), tasks and runs as
 * resources, and every task or run that ends as a logging notification plus a
 * `resources/updated` for subscribers. Connect it to a transport; dispose to stop
 * forwarding engine events.
 */
export function createMcpServer(options: Orchestr8McpOptions): { server: McpServer } & Disposable {
  const { host } = options;
  const logger = options.logger ?? silentLogger;
  const server = new McpServer(
    { name: 'orchestr8', version: options.version },
    {
      capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } },
      instructions:
        'Orchestr8 runs agent tasks, shell commands and workflows in the background. Launch with task_async or workflow_launch (they return ids at once), ' +
        'keep working, then check with task_status / task_result. Finished tasks are announced as notifications.',
    },
  );
  const store = new DisposableStore();

  const tool = <A>(fn: (args: A) => Promise<unknown>) =>
    async (args: A): Promise<CallToolResult> => {
      try {
        const value = await fn(args);
        return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
      } catch (error) {
        return { isError: true, content: [{ type: 'text', text: errorMessage(error) }] };
      }
    };

  server.registerTool(
    'task_async',
    {
      title: 'Launch a background task',
      description:
        'Fire and forget: starts an agent task (agent + prompt), a shell command (run) or a workflow (workflow + inputs) in the background and returns its ids at once. ' +
        'Check on it later with task_status or task_result.',
      inputSchema: taskAsyncShape,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    tool((args) => taskAsync(host, args)),
  );
  server.registerTool(
    'task_status',
    {
      title: 'Task or run status',
      description: 'State of a task (with its run) or of a run (with all its tasks): pending, queued, running, waiting, completed, failed, cancelled or skipped.',
      inputSchema: idShape,
      annotations: { readOnlyHint: true },
    },
    tool((args) => taskStatus(host, args)),
  );
  server.registerTool(
    'task_result',
    {
      title: 'Task result',
      description: "A finished task's output (for a run id: each task's). Pass wait_seconds to wait for it to finish first.",
      inputSchema: taskResultShape,
      annotations: { readOnlyHint: true },
    },
    tool((args) => taskResult(host, args)),
  );
  server.registerTool(
    'task_cancel',
    {
      title: 'Cancel a task or run',
      description: 'Cancels a task (its dependents are skipped) or every unfinished task of a run.',
      inputSchema: idShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    tool((args) => taskCancel(host, args)),
  );
  server.registerTool(
    'workflow_list',
    {
      title: 'List workflows',
      description: 'The workflow files of the project (.orchestr8/workflows), with their inputs, tasks and any problems.',
      annotations: { readOnlyHint: true },
    },
    tool(() => workflowList(host)),
  );
  server.registerTool(
    'workflow_launch',
    {
      title: 'Launch a workflow',
      description: 'Fire and forget: launches a workflow file with its inputs and returns the run id and task ids at once.',
      inputSchema: workflowLaunchShape,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    tool((args) => workflowLaunch(host, args)),
  );

  const recentRuns = () => host.use((api) => api.list({ limit: 20 }));
  server.registerResource(
    'task',
    new ResourceTemplate('orchestr8://tasks/{id}', {
      list: async () => {
        const { runs } = await recentRuns();
        const tasks = await host.use((api) => Promise.all(runs.map((r) => api.status(r.id))));
        return { resources: tasks.flatMap((s) => s.tasks.map((t) => ({ uri: taskUri(t.id), name: t.id, title: `${t.name} (${t.state})`, mimeType: 'application/json' }))) };
      },
    }),
    { title: 'Orchestr8 task', description: 'A task: its state and, once finished, its result', mimeType: 'application/json' },
    async (uri, { id }) => {
      const status = await taskStatus(host, { id: String(id) });
      const result = await taskResult(host, { id: String(id) });
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ ...status, result }, null, 2) }] };
    },
  );
  server.registerResource(
    'run',
    new ResourceTemplate('orchestr8://runs/{id}', {
      list: async () => ({ resources: (await recentRuns()).runs.map((r) => ({ uri: runUri(r.id), name: r.id, title: `${r.name} (${r.state})`, mimeType: 'application/json' })) }),
    }),
    { title: 'Orchestr8 run', description: 'A run with the states of its tasks', mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await taskStatus(host, { id: String(id) }), null, 2) }] }),
  );

  const subscribed = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscribed.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });

  const announce = (event: EngineEvent) => {
    const note = notificationOf(event);
    if (note === 'list-changed') return server.sendResourceListChanged();
    if (!note) return;
    const send = async () => {
      await server.sendLoggingMessage({ level: note.level, logger: MCP_LOGGER, data: note.data });
      for (const uri of note.uris) if (subscribed.has(uri)) await server.server.sendResourceUpdated({ uri });
    };
    send().catch((error: unknown) => logger.warn(`could not notify the MCP client: ${errorMessage(error)}`));
  };
  store.add(host.onEvent((event) => server.isConnected() && announce(event)));

  return { server, dispose: () => store.dispose() };
}

type Note = { level: LoggingLevel; data: Record<string, unknown>; uris: string[] };

/** What an MCP client hears of an engine event: task and run ends, and changes of the resource list. */
function notificationOf(event: EngineEvent): Note | 'list-changed' | undefined {
  switch (event.type) {
    case 'workflow.launched':
    case 'workflow.removed':
      return 'list-changed';
    case 'task.completed':
    case 'task.failed':
    case 'task.cancelled':
    case 'task.skipped': {
      const t = event.task;
      const data: Record<string, unknown> = { event: event.type, taskId: t.id, runId: t.runId, name: t.name, state: t.state };
      if (event.type === 'task.failed') data.error = event.error;
      if (event.type === 'task.completed') data.hint = `read it with task_result { id: "${t.id}" }`;
      return { level: event.type === 'task.failed' ? 'error' : event.type === 'task.completed' ? 'info' : 'warning', data, uris: [taskUri(t.id), runUri(t.runId)] };
    }
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled': {
      const r = event.run;
      const data = { event: event.type, runId: r.id, name: r.name, state: r.state, ...(r.error ? { error: r.error } : {}) };
      return { level: event.type === 'workflow.failed' ? 'error' : event.type === 'workflow.completed' ? 'info' : 'warning', data, uris: [runUri(r.id)] };
    }
    default:
      return undefined;
  }
}
