import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema, type CallToolResult, type LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { NotFoundError } from '../../core/engine/errors.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { DisposableStore } from '../../core/util/disposable.ts';
import { errorMessage, type Logger, silentLogger } from '../../core/util/logger.ts';
import {
  runPause,
  taskAnswer,
  taskAsync,
  taskCancel,
  taskContinue,
  taskResult,
  taskStatus,
  workflowLaunch,
  workflowList,
  type ToolHost,
} from '../agent-tools/task-operations.ts';
import { AGENT_TOOLS, type AgentToolSpec } from '../agent-tools/tool-catalog.ts';
import { taskAsyncShape } from '../agent-tools/tool-schemas.ts';
import { EngineTaskStore } from './engine-task-store.ts';

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
 * task_result, task_cancel, workflow_list, workflow_launch), `task_run` for clients
 * that speak the MCP Tasks utility (its tasks are the engine's runs, see
 * `EngineTaskStore`), tasks and runs as resources, and every task or run that ends
 * as a logging notification, a `resources/updated` for subscribers and a
 * `notifications/tasks/status`. Connect it to a transport; dispose to stop
 * forwarding engine events.
 */
export function createMcpServer(options: Orchestr8McpOptions): { server: McpServer } & Disposable {
  const { host } = options;
  const logger = options.logger ?? silentLogger;
  const taskStore = new EngineTaskStore(host);
  const server = new McpServer(
    { name: 'orchestr8', version: options.version },
    {
      capabilities: {
        logging: {},
        resources: { subscribe: true, listChanged: true },
        tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
      },
      taskStore,
      instructions:
        'Orchestr8 runs agent tasks, shell commands and workflows in the background. Launch with task_async or workflow_launch (they return ids at once), ' +
        'keep working, then check with task_status / task_result. Finished tasks are announced as notifications. ' +
        'Clients that support MCP tasks can call task_run as a task instead and follow it with tasks/get and tasks/result.',
    },
  );
  const store = new DisposableStore();

  const tool =
    <A>(fn: (args: A) => Promise<unknown>) =>
    async (args: A): Promise<CallToolResult> => {
      try {
        const value = await fn(args);
        return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
      } catch (error) {
        return { isError: true, content: [{ type: 'text', text: errorMessage(error) }] };
      }
    };

  // biome-ignore lint/suspicious/noExplicitAny: each operation takes its own tool's arguments, which the SDK has checked against spec.shape.
  const operations: Record<AgentToolSpec['name'], (args: any) => Promise<unknown>> = {
    task_async: (args) => taskAsync(host, args),
    task_status: (args) => taskStatus(host, args),
    task_result: (args) => taskResult(host, args),
    task_cancel: (args) => taskCancel(host, args),
    task_continue: (args) => taskContinue(host, args),
    workflow_list: () => workflowList(host),
    workflow_launch: (args) => workflowLaunch(host, args),
    task_answer: (args) => taskAnswer(host, args),
    run_pause: (args) => runPause(host, args),
    run_resume: (args) => runPause(host, args, true),
  };
  for (const spec of AGENT_TOOLS) {
    server.registerTool(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: spec.shape,
        annotations: {
          readOnlyHint: spec.readOnly,
          destructiveHint: spec.name === 'task_cancel',
          openWorldHint: spec.changesState && spec.name !== 'task_cancel',
        },
      },
      tool(operations[spec.name]),
    );
  }

  server.experimental.tasks.registerToolTask(
    TASK_RUN.name,
    {
      title: TASK_RUN.title,
      description: TASK_RUN.description,
      inputSchema: TASK_RUN.shape,
      execution: { taskSupport: 'optional' },
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    {
      // The run is durable before the handle is handed out: a handle always names a run.
      createTask: async (args, extra) => {
        const { runId } = await taskAsync(host, args);
        return { task: await extra.taskStore.createTask({ context: { runId } }) };
      },
      getTask: (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );

  // Before the first launch there is no state folder: no resources yet, rather than an error.
  const recentRuns = () =>
    host
      .use((api) => api.list({ limit: 20 }))
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) return { runs: [], total: 0 };
        throw error;
      });
  server.registerResource(
    'task',
    new ResourceTemplate('orchestr8://tasks/{id}', {
      list: async () => {
        const { runs } = await recentRuns();
        if (runs.length === 0) return { resources: [] };
        const tasks = await host.use((api) => Promise.all(runs.map((r) => api.status(r.id))));
        return {
          resources: tasks.flatMap((s) =>
            s.tasks.map((t) => ({ uri: taskUri(t.id), name: t.id, title: `${t.name} (${t.state})`, mimeType: 'application/json' })),
          ),
        };
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
      list: async () => ({
        resources: (await recentRuns()).runs.map((r) => ({ uri: runUri(r.id), name: r.id, title: `${r.name} (${r.state})`, mimeType: 'application/json' })),
      }),
    }),
    { title: 'Orchestr8 run', description: 'A run with the states of its tasks', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await taskStatus(host, { id: String(id) }), null, 2) }],
    }),
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

  /** `notifications/tasks/status` when a run (an MCP task) ends: the engine moves it, not a request of this session. */
  const announceTaskStatus = async (runId: string) => {
    const task = await taskStore.getTask(runId);
    if (task) await server.server.notification({ method: 'notifications/tasks/status', params: task });
  };

  const announce = (event: EngineEvent) => {
    if (event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled') {
      announceTaskStatus(event.run.id).catch((error: unknown) => logger.warn(`could not send a task status to the MCP client: ${errorMessage(error)}`));
    }
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

/** `task_run`: task_async's arguments, for clients that call it as an MCP task (or plainly, to wait for the result). */
const TASK_RUN = {
  name: 'task_run',
  title: 'Run a task (MCP task)',
  description:
    'Runs an agent task (agent + prompt), a shell command (run) or a workflow (workflow + inputs). Called as an MCP task it returns a task handle at once ' +
    '(follow it with tasks/get, tasks/result, tasks/cancel; it survives a restart of this server); called plainly it waits and returns the result.',
  shape: taskAsyncShape,
} as const;

export type Note = { level: LoggingLevel; data: Record<string, unknown>; uris: string[] };

/** What an MCP client hears of an engine event: task and run ends, a run's pull request, storage pauses, and changes of the resource list. */
export function notificationOf(event: EngineEvent): Note | 'list-changed' | undefined {
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
      return {
        level: event.type === 'task.failed' ? 'error' : event.type === 'task.completed' ? 'info' : 'warning',
        data,
        uris: [taskUri(t.id), runUri(t.runId)],
      };
    }
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled': {
      const r = event.run;
      const data = { event: event.type, runId: r.id, name: r.name, state: r.state };
      return { level: event.type === 'workflow.failed' ? 'error' : event.type === 'workflow.completed' ? 'info' : 'warning', data, uris: [runUri(r.id)] };
    }
    case 'run.delivered': {
      const r = event.run;
      const pr = r.delivery?.pullRequest;
      if (!pr) return undefined;
      const data = { event: event.type, runId: r.id, name: r.name, pullRequestUrl: pr.url, ...(r.delivery?.branch ? { branch: r.delivery.branch } : {}) };
      return { level: 'info', data, uris: [runUri(r.id)] };
    }
    case 'engine.storage':
      return { level: event.state === 'paused' ? 'warning' : 'info', data: { event: event.type, state: event.state, reason: event.reason }, uris: [] };
    default:
      return undefined;
  }
}
