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
