import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TaskRecord } from '../../model/records.ts';
import { isTerminal } from '../../model/task-state.ts';
import { TaskError, type SubTasks, type TaskContext } from '../../runners/task-runner.ts';
import { capText, defineTool, type AgentTool } from './agent-tool.ts';

const DEFAULT_WAIT_MS = 10 * 60_000;
const MAX_WAIT_MS = 24 * 60 * 60_000;
const MAX_RESULT_CHARS = 20_000;
/**
 * Extra attempts of a sub-task: the retries a workflow author would give an agent task (an
 * engine crash costs no attempt; the sub-task resumes from its own checkpoints).
 */
const SUB_TASK_RETRIES = 2;

/**
 * Run id of a sub-task, derived from the parent task and the model's tool_use id. A parent
 * resumed after a crash replays the same tool call with the same id, so the launch is
 * not repeated (the engine already holds that run).
 */
export function subTaskRunId(parentTaskId: string, toolUseId: string): string {
  return createHash('sha256').update(`${parentTaskId}\n${toolUseId}`).digest('hex').slice(0, 12);
}

export const launchTaskTool = defineTool({
  name: 'launch_task',
  description:
    'Start a sub-task in the background: another agent with its own prompt, in the same folder. Returns its task id at once; ' +
    'use wait_for_tasks or task_status/task_result later.',
  schema: z.object({
    agent: z.string().min(1).describe('Agent name'),
    prompt: z.string().min(1),
    name: z.string().optional(),
    model: z.string().optional(),
  }),
  async run({ agent, prompt, name, model }, env) {
    const { ctx } = env;
    const id = subTaskRunId(ctx.task.id, env.toolUseId);
    const engine = subTasksOf(ctx);
    const existing = await engine.status(id).catch(() => undefined);
    if (existing) return `launched task ${existing.tasks[0]?.id ?? id} (agent ${agent}; resumed)`;
    const launched = await engine.launch({
      id,
      cwd: ctx.cwd,
      task: {
        name: name ?? `${agent} (from ${ctx.task.key})`,
        action: { kind: 'agent', agent, prompt, ...(model ? { model } : {}) },
        retries: SUB_TASK_RETRIES,
      },
    });
    const taskId = launched.taskIds[0]!;
    ctx.log(`\n[launched sub-task ${taskId}: ${agent}]\n`);
    return `launched task ${taskId} (agent ${agent})`;
  },
});

export const taskStatusTool = defineTool({
  name: 'task_status',
  readOnly: true,
  description: 'States of tasks by id (pending, queued, running, completed, failed, cancelled, …).',
  schema: z.object({ task_ids: z.array(z.string()).min(1) }),
  async run({ task_ids }, { ctx }) {
    const lines = await Promise.all(task_ids.map(async (id) => describe(await findTask(subTasksOf(ctx), id), id)));
    return lines.join('\n');
  },
});

export const taskResultTool = defineTool({
  name: 'task_result',
  readOnly: true,
  description: 'The result text of a finished task, or its state and error if it has none.',
  schema: z.object({ task_id: z.string() }),
  async run({ task_id }, { ctx }) {
    return resultText(subTasksOf(ctx), task_id);
  },
});

export const waitForTasksTool = defineTool({
  name: 'wait_for_tasks',
  readOnly: true,
  description: 'Wait until all listed tasks have finished (or the timeout passes) and return their states and results. Costs no tokens while waiting.',
  schema: z.object({
    task_ids: z.array(z.string()).min(1),
    timeout_ms: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
  }),
  async run({ task_ids, timeout_ms }, env) {
    const { ctx } = env;
    ctx.log(`\n[waiting for ${task_ids.length} task(s): ${task_ids.join(', ')}]\n`);
    const engine = subTasksOf(ctx);
    const finished = await waitForTerminal(engine, task_ids, timeout_ms ?? DEFAULT_WAIT_MS, ctx.signal);
    const parts = await Promise.all(task_ids.map((id) => resultText(engine, id)));
    return `${finished ? 'all tasks finished' : 'timed out; some tasks are still running'}\n\n${parts.join('\n\n')}`;
  },
});

/** The attempt's sub-task capability; a task on a BullMQ worker has none (fails without retries, as a bad config does). */
function subTasksOf(ctx: TaskContext): SubTasks {
  if (!ctx.subTasks) throw new TaskError('sub-tasks are not available to tasks on a BullMQ worker (they need the coordinating engine)', false);
  return ctx.subTasks;
}

export const SUB_TASK_TOOLS: readonly AgentTool[] = [launchTaskTool, taskStatusTool, taskResultTool, waitForTasksTool];

/** Resolves true when every task is terminal, false at the timeout; rejects when `signal` aborts. */
async function waitForTerminal(engine: SubTasks, ids: string[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const open = new Set(ids);
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      subscription.dispose();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    // Subscribe before reading states, so a task finishing in between is not missed.
    const subscription = engine.onEvent((event) => {
      if ('task' in event && open.has(event.task.id) && isTerminal(event.task.state)) {
        open.delete(event.task.id);
        if (!open.size) finish(() => resolve(true));
      }
    });
    const timer = setTimeout(() => finish(() => resolve(false)), timeoutMs);
    const onAbort = () => finish(() => reject(new Error('wait_for_tasks cancelled')));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    void Promise.all(
      ids.map(async (id) => {
        const task = await findTask(engine, id);
        // An unknown id never finishes; report it as done so the wait does not hang on a typo.
        if (!task || isTerminal(task.state)) open.delete(id);
      }),
    ).then(
      () => {
        if (!open.size) finish(() => resolve(true));
      },
      (error: unknown) => finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

async function findTask(engine: SubTasks, id: string): Promise<TaskRecord | undefined> {
  return engine.task(id).catch(() => undefined);
}

function describe(task: TaskRecord | undefined, id: string): string {
  if (!task) return `${id}: unknown task`;
  return `${task.id}: ${task.state}${task.error ? ` (${task.error})` : ''}`;
}

async function resultText(engine: SubTasks, id: string): Promise<string> {
  const task = await findTask(engine, id);
  if (!task) return `${id}: unknown task`;
  if (task.state !== 'completed') return describe(task, id);
  const result = await engine.result(task.id);
  return `${task.id}: completed\n${capText(result?.output ?? '', MAX_RESULT_CHARS)}`;
}
