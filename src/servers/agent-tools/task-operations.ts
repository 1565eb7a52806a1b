import type { InputReply } from '../../core/model/input-request.ts';
import type { EngineApi, LaunchResult } from '../../core/engine/engine-api.ts';
import { LAUNCH_FIELD_NAMES, launchFromInput, type LaunchFieldNames } from '../../core/engine/launch-input.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { isTerminal } from '../../core/model/task-state.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { loadWorkflowFile } from '../../core/workflow/parse-workflow.ts';
import type { IdArgs, TaskAnswerArgs, TaskAsyncArgs, TaskContinueArgs, TaskResultArgs, WorkflowLaunchArgs } from './tool-schemas.ts';
import { listWorkflowFiles, resolveWorkflowPath, type WorkflowFileInfo } from './workflow-files.ts';
import { isTaskId } from '../../core/util/ids.ts';

/** What the tools need from their host: the engine API (however it is reached) and the project. */
export interface ToolHost {
  /**
   * Calls `fn` with the engine API; throws a clear error when there is none. `write`
   * marks a launch or cancel, which a host that only reads the state refuses up front.
   */
  use<T>(fn: (api: EngineApi) => Promise<T>, mode?: 'read' | 'write'): Promise<T>;
  /** Engine events (every transition, whoever owns the state): they wake a waiting `task_result`. */
  onEvent(listener: (event: EngineEvent) => void): Disposable;
  /** Project root: where runs execute and workflow files are looked for. */
  root: string;
}

/** Longest result text handed to a model; the rest stays readable with `orchestr8 result`. */
export const MAX_OUTPUT_CHARS = 50_000;
/** A waiting `task_result` looks again this often even without an event (a safety net, not the way it learns). */
const RECHECK_MS = 5000;

export interface TaskSummary {
  id: string;
  name: string;
  state: string;
  attempt: number;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface LaunchSummary extends LaunchResult {
  /** For a single task: its id, the one to pass to task_status / task_result. */
  taskId?: string;
  hint: string;
}

/** task_async's arguments, as messages about a launch name them. */
const TOOL_FIELDS: LaunchFieldNames = { ...LAUNCH_FIELD_NAMES, budget: 'budget_usd, budget_tokens' };

/** task_async: one agent task or shell command, or a whole workflow; returns the ids as soon as the launch is durable. */
export async function taskAsync(host: ToolHost, args: TaskAsyncArgs): Promise<LaunchSummary> {
  const { budget_usd: usd, budget_tokens: tokens, ...rest } = args;
  const budget = usd !== undefined || tokens !== undefined ? { ...(usd !== undefined ? { usd } : {}), ...(tokens !== undefined ? { tokens } : {}) } : undefined;
  const choice = launchFromInput({ ...rest, budget }, TOOL_FIELDS);
  if ('workflow' in choice) return workflowLaunch(host, { file: choice.workflow, inputs: choice.inputs });
  const { task } = choice;
  const result = await host.use((api) => api.launch({ task, cwd: host.root }), 'write');
  const taskId = result.taskIds[0]!;
  return { ...result, taskId, hint: `running in the background; check it with task_status or task_result { id: "${taskId}" }` };
}

/** workflow_launch: a workflow file with its inputs. Every problem of the file is reported at once, with file:line:col. */
export async function workflowLaunch(host: ToolHost, args: WorkflowLaunchArgs): Promise<LaunchSummary> {
  const workflow = await loadWorkflowFile(resolveWorkflowPath(host.root, args.file));
  const result = await host.use((api) => api.launch({ workflow, inputs: args.inputs ?? {}, cwd: host.root }), 'write');
  return { ...result, hint: `running in the background; check it with task_status { id: "${result.runId}" }` };
}

/** workflow_list: the project's workflow files, with their inputs and any problems. */
export function workflowList(host: ToolHost): Promise<WorkflowFileInfo[]> {
  return listWorkflowFiles(host.root);
}

export type StatusReport = { task: TaskSummary; run: RunSummary } | { run: RunSummary; tasks: TaskSummary[] };

export interface RunSummary {
  id: string;
  name: string;
  state: string;
  file?: string;
  createdAt: string;
  finishedAt?: string;
  error?: string;
}

/** task_status: one task, or a run with its tasks. */
export function taskStatus(host: ToolHost, args: IdArgs): Promise<StatusReport> {
  return host.use(async (api) => {
    if (isTaskId(args.id)) {
      const task = await api.task(args.id);
      const { run } = await api.status(task.runId);
      return { task: taskSummary(task), run: runSummary(run) };
    }
    const { run, tasks } = await api.status(args.id);
    return { run: runSummary(run), tasks: tasks.map(taskSummary) };
  });
}

export interface ResultReport {
  id: string;
  state: string;
  /** Set once the task completed. */
  output?: string;
  exitCode?: number;
  error?: string;
  truncated?: boolean;
  /** Why there is no output yet, and what to do. */
  note?: string;
}

/**
 * task_result: a task's output. A run id stands for its tasks (one report each).
 * With `wait_seconds`, waits for unfinished tasks to end first, up to that long.
 */
export async function taskResult(host: ToolHost, args: TaskResultArgs): Promise<ResultReport | { run: string; results: ResultReport[] }> {
  const ids = await host.use(async (api) => (isTaskId(args.id) ? [(await api.task(args.id)).id] : (await api.status(args.id)).tasks.map((t) => t.id)));
  if (args.wait_seconds) await waitForTasks(host, ids, args.wait_seconds * 1000);
  const reports = await host.use((api) => Promise.all(ids.map((id) => resultReport(api, id))));
  if (isTaskId(args.id) || reports.length === 1) return reports[0]!;
  return { run: args.id, results: reports };
}

/** task_cancel: a task (its dependents are skipped) or a whole run. */
export async function taskCancel(host: ToolHost, args: IdArgs): Promise<StatusReport> {
  await host.use((api) => api.cancel(args.id), 'write');
  return taskStatus(host, args);
}

/** Answers a task's request (see `EngineApi.answer`), then reports its state. */
export async function taskAnswer(host: ToolHost, args: TaskAnswerArgs): Promise<StatusReport> {
  const raise = { ...(args.raise_usd !== undefined ? { usd: args.raise_usd } : {}), ...(args.raise_tokens !== undefined ? { tokens: args.raise_tokens } : {}) };
  const reply: InputReply = {
    decision: args.decision,
    ...(args.always ? { always: true } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
    ...(Object.keys(raise).length ? { raise } : {}),
  };
  await host.use((api) => api.answer(args.id, reply), 'write');
  return taskStatus(host, { id: args.id });
}

/** Pauses or resumes a run, then reports its state. */
export async function runPause(host: ToolHost, args: IdArgs, resume = false): Promise<StatusReport> {
  await host.use((api) => (resume ? api.resume(args.id) : api.pause(args.id)), 'write');
  return taskStatus(host, args);
}

/** task_continue: Continue… on a finished agent task (EngineApi.followUp); answers with its status. */
export async function taskContinue(host: ToolHost, args: TaskContinueArgs): Promise<StatusReport> {
  await host.use((api) => api.followUp(args.id, args.prompt), 'write');
  return taskStatus(host, { id: args.id });
}

async function resultReport(api: EngineApi, id: string): Promise<ResultReport> {
  const task = await api.task(id);
  const base: ResultReport = { id: task.id, state: task.state, ...(task.error ? { error: task.error } : {}) };
  if (!isTerminal(task.state)) return { ...base, note: `not finished (${task.state}); ask again later, or pass wait_seconds` };
  const result = await api.result(id);
  if (!result) return { ...base, note: task.state === 'completed' ? 'completed without output' : `the task ${task.state}; it has no result` };
  const truncated = result.output.length > MAX_OUTPUT_CHARS;
  return {
    ...base,
    output: truncated ? result.output.slice(0, MAX_OUTPUT_CHARS) : result.output,
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(truncated
      ? { truncated: true, note: `output cut at ${MAX_OUTPUT_CHARS} of ${result.output.length} characters; the rest: orchestr8 result ${task.id}` }
      : {}),
  };
}

/**
 * Resolves when every task is finished or `timeoutMs` passed. Woken by the events of a finishing
 * task (every host hears them: the owner's engine, or a view following its journal); the slow
 * re-check only bounds what a missed event could cost, and each one is an in-memory read.
 */
async function waitForTasks(host: ToolHost, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let woken = false;
  let wake: () => void = () => {};
  const subscription = host.onEvent((e) => {
    if (!('task' in e) || !ids.includes(e.task.id) || !isTerminal(e.task.state)) return;
    woken = true;
    wake();
  });
  try {
    while (Date.now() < deadline) {
      woken = false;
      const states = await host.use((api) => Promise.all(ids.map(async (id) => (await api.task(id)).state)));
      if (states.every(isTerminal)) return;
      // An event during the read above counts: look again at once.
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(RECHECK_MS, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    subscription.dispose();
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function taskSummary(t: TaskRecord): TaskSummary {
  return {
    id: t.id,
    name: t.name,
    state: t.state,
    attempt: t.attempt,
    ...(t.error ? { error: t.error } : {}),
    ...(t.startedAt ? { startedAt: iso(t.startedAt)! } : {}),
    ...(t.finishedAt ? { finishedAt: iso(t.finishedAt)! } : {}),
  };
}

function runSummary(r: RunRecord): RunSummary {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    createdAt: iso(r.createdAt)!,
    ...(r.file ? { file: r.file } : {}),
    ...(r.finishedAt ? { finishedAt: iso(r.finishedAt)! } : {}),
  };
}
