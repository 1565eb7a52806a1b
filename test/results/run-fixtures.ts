import type { HookContext } from '../../src/core/engine/run-hooks.ts';
import { GitRunHooks, type GitRunHooksOptions } from '../../src/core/git/git-run-hooks.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../../src/core/model/records.ts';
import { mergeDelivery, type RunDelivery } from '../../src/core/model/run-delivery.ts';
import type { WorkflowOptions } from '../../src/core/workflow/workflow-schema.ts';
import type { TaskAction } from '../../src/core/model/workflow.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';
import { newRunId } from '../../src/core/util/ids.ts';

/** A run record as the engine hands it to hooks (used where the hooks are tested on their own). */
export function runRecord(cwd: string, options: WorkflowOptions = {}, name = 'Fix Bug'): RunRecord {
  return { id: newRunId(), name, inputs: {}, state: 'running', single: false, cwd, options, createdAt: Date.now() - 5000 };
}

export function taskRecord(run: RunRecord, key: string, action: TaskAction): TaskRecord {
  return {
    id: `${run.id}.${key}`,
    runId: run.id,
    key,
    name: key,
    action,
    needs: [],
    state: 'completed',
    priority: 0,
    order: 0,
    attempt: 1,
    retry: DEFAULT_RETRY,
    continueOnError: false,
    startedAt: Date.now() - 3000,
    finishedAt: Date.now() - 1000,
    updatedAt: Date.now(),
  };
}

export function resultOf(task: TaskRecord): TaskResult {
  return { taskId: task.id, runId: task.runId, output: 'ok', createdAt: Date.now() };
}

/** The engine's side of `recordDelivery`, for hooks tested without an engine. */
export function applyDelivery(run: RunRecord, patch: RunDelivery): void {
  run.delivery = mergeDelivery(run.delivery, patch);
}

/** What the engine hands each hook call, over records kept here: reads of `runs` and `tasks`, deliveries merged into them. */
export function hookContext(runs: RunRecord[] = [], tasks: TaskRecord[] = []): HookContext {
  return {
    engine: {
      status: async (id) => ({ run: runs.find((r) => r.id === id)!, tasks: tasks.filter((t) => t.runId === id) }),
      gates: async () => [],
      usage: async () => ({ inputTokens: 1200, outputTokens: 340, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.0123 }),
      launch: async () => {
        throw new Error('no agents launched in these tests');
      },
    },
    recordDelivery: async (runId, patch) => applyDelivery(runs.find((r) => r.id === runId)!, patch),
  };
}

/** GitRunHooks called as the engine calls them, with one context for every call (tests may still pass their own). */
export class ContextHooks extends GitRunHooks {
  constructor(
    options: GitRunHooksOptions,
    private readonly ctx: HookContext = hookContext(),
  ) {
    super(options);
  }

  override taskCompleted(run: RunRecord, task: TaskRecord, result: TaskResult, ctx = this.ctx): Promise<void> {
    return super.taskCompleted(run, task, result, ctx);
  }

  override runFinished(run: RunRecord, tasks: TaskRecord[], ctx = this.ctx): ReturnType<GitRunHooks['runFinished']> {
    return super.runFinished(run, tasks, ctx);
  }
}
