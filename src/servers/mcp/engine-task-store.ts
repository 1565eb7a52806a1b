import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { CallToolResult, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { RunStatus } from '../../core/engine/engine-api.ts';
import { NotFoundError } from '../../core/engine/errors.ts';
import { taskResult, type ToolHost } from '../agent-tools/task-operations.ts';

/** How often a client (and the SDK, for a plain `task_run` call or a waiting `tasks/result`) is advised to look again. */
export const TASK_POLL_INTERVAL_MS = 500;
/** Runs per `tasks/list` page. */
const PAGE_SIZE = 20;

/**
 * The MCP Tasks utility's `TaskStore` over the engine's durable runs, so a task
 * handle outlives the server process: an MCP task is an engine run, its `taskId`
 * the run id. The engine already keeps everything a handle needs (state, result,
 * creation time), so this store keeps nothing of its own: every answer is read
 * from the engine as of now, through whichever process owns the state.
 *
 * A task is created by launching a run (the `task_run` tool does) and handing its
 * id over in `context.runId`; results are only ever the engine's, never stored
 * here; the only status a client can set is `cancelled`, which cancels the run.
 * Runs live until cleared (`orchestr8 clear`), so every task's `ttl` is null.
 * Every run of the state folder is a task here, whoever launched it: the state is
 * the project's, not one MCP session's (the same as `task_status`).
 */
export class EngineTaskStore implements TaskStore {
  /** Unfinished runs this server already made sure someone runs. */
  private readonly adopted = new Set<string>();

  constructor(private readonly host: ToolHost) {}

  async createTask(params: CreateTaskOptions): Promise<Task> {
    const runId = params.context?.runId;
    if (typeof runId !== 'string') throw new Error('an engine task is created by launching a run first and passing its id as context.runId');
    const task = await this.getTask(runId);
    if (!task) throw new Error(`no run ${runId}`);
    return task;
  }

  async getTask(taskId: string): Promise<Task | null> {
    const status = await this.status(taskId);
    if (status?.run.state === 'running') await this.adopt(taskId);
    return status ? mcpTaskOf(status) : null;
  }

  /**
   * A client following an unfinished task expects it to move; after the server that ran it
   * died, nobody may be running it until the next launch. The first time a task is asked
   * about, this server takes the state if nobody live holds it (as a launch would), so the
   * engine resumes what the dead owner left. Where a live owner runs it, this changes nothing.
   */
  private async adopt(runId: string): Promise<void> {
    if (this.adopted.has(runId)) return;
    this.adopted.add(runId);
    // A live owner that serves no API refuses the write: it still runs the task, which is all this wants.
    await this.host.use(async () => {}, 'write').catch(() => {});
  }

  async getTaskResult(taskId: string): Promise<Result> {
    const status = await this.status(taskId);
    if (!status) throw new Error(`no task ${taskId}`);
    return toolResultOf(status, await taskResult(this.host, { id: taskId }));
  }

  async storeTaskResult(taskId: string): Promise<void> {
    throw new Error(`task ${taskId}: results come from the engine's run, not from the MCP server`);
  }

  async updateTaskStatus(taskId: string, status: Task['status']): Promise<void> {
    if (status !== 'cancelled') throw new Error(`task ${taskId}: only cancelling is possible from outside the engine (asked for ${status})`);
    await this.host.use((api) => api.cancel(taskId), 'write');
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const offset = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(offset) || offset < 0) throw new Error(`invalid cursor ${cursor}`);
    // Before the first launch there is no state folder: no tasks yet, rather than an error.
    const page = await this.host
      .use(async (api) => {
        const { runs, total } = await api.list({ limit: PAGE_SIZE, offset });
        return { statuses: await Promise.all(runs.map((run) => api.status(run.id))), total };
      })
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) return { statuses: [], total: 0 };
        throw error;
      });
    const next = offset + page.statuses.length;
    return { tasks: page.statuses.map(mcpTaskOf), ...(next < page.total ? { nextCursor: String(next) } : {}) };
  }

  /** The run named exactly by `taskId` (the engine also takes prefixes; a task handle is never one), or undefined. */
  private async status(taskId: string): Promise<RunStatus | undefined> {
    try {
      const status = await this.host.use((api) => api.status(taskId));
      return status.run.id === taskId ? status : undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }
}

/** A run as an MCP task: `working` until it ends, then its end state; a waiting or failed run says why in `statusMessage`. */
export function mcpTaskOf({ run, tasks }: RunStatus): Task {
  const times = [run.createdAt, run.finishedAt, ...tasks.flatMap((t) => [t.startedAt, t.finishedAt])].filter((t): t is number => t !== undefined);
  const waiting = tasks.filter((t) => t.state === 'waiting').map((t) => t.id);
  const failed = tasks.filter((t) => t.state === 'failed').map((t) => `${t.name}: ${t.error ?? 'failed'}`);
  const asking = tasks.filter((t) => t.state === 'needs-input').map((t) => t.id);
  const statusMessage =
    run.state === 'paused'
      ? `paused: ${run.pause?.reason ?? 'by the user'}`
      : run.state === 'running'
        ? asking.length > 0
          ? `needs input: orchestr8 approve|deny ${asking.join(', ')}`
          : waiting.length > 0
            ? `waiting for a signal: orchestr8 signal ${waiting.join(', ')}`
            : undefined
        : failed.length > 0
          ? failed.join('; ')
          : undefined;
  return {
    taskId: run.id,
    // A task asking a permission or a raised budget is exactly MCP's input_required.
    status: run.state === 'running' || run.state === 'paused' ? (asking.length > 0 ? 'input_required' : 'working') : run.state,
    ttl: null,
    createdAt: new Date(run.createdAt).toISOString(),
    lastUpdatedAt: new Date(Math.max(...times)).toISOString(),
    pollInterval: TASK_POLL_INTERVAL_MS,
    ...(statusMessage ? { statusMessage } : {}),
  };
}

/** The `tools/call` result a finished run gives: its result report as `task_result` words it, an error unless it completed. */
function toolResultOf({ run }: RunStatus, report: unknown): CallToolResult {
  return { ...(run.state === 'completed' ? {} : { isError: true }), content: [{ type: 'text', text: JSON.stringify(report, null, 2) }] };
}
