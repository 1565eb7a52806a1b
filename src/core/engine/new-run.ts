import type { RunRecord, TaskRecord } from '../model/records.ts';
import type { TaskDef, WorkflowDef } from '../model/workflow.ts';
import { DEFAULT_RETRY } from '../model/workflow.ts';
import { taskId } from '../util/ids.ts';
import { resolveInputs } from '../workflow/inputs.ts';
import type { LaunchRequest, SingleTaskSpec } from './engine-api.ts';

/** The records of a run a launch request asks for: the run, and its tasks all pending, in file order. */
export function newRun(request: LaunchRequest, runId: string, defaultCwd: string, now: number): { run: RunRecord; tasks: TaskRecord[] } {
  const def = 'workflow' in request ? request.workflow : singleTaskWorkflow(request.task);
  const inputs = 'workflow' in request ? resolveInputs(def, request.inputs ?? {}) : {};
  const run: RunRecord = {
    id: runId,
    name: def.name,
    inputs,
    state: 'running',
    single: !('workflow' in request),
    cwd: request.cwd ?? defaultCwd,
    createdAt: now,
    ...(def.file ? { file: def.file } : {}),
    ...(def.description ? { description: def.description } : {}),
    ...(def.concurrency ? { concurrency: def.concurrency } : {}),
    ...(def.options ? { options: def.options } : {}),
    ...(def.options?.budget ? { budget: def.options.budget } : {}),
  };
  return { run, tasks: def.tasks.map((t, order) => taskRecord(run.id, t, order, now)) };
}

function taskRecord(runId: string, def: TaskDef, order: number, now: number): TaskRecord {
  return {
    id: taskId(runId, def.id),
    runId,
    key: def.id,
    name: def.name ?? def.id,
    action: def.action,
    needs: def.needs,
    state: 'pending',
    priority: def.priority,
    order,
    attempt: 0,
    retry: def.retry,
    continueOnError: def.continueOnError,
    updatedAt: now,
    ...(def.timeoutMs ? { timeoutMs: def.timeoutMs } : {}),
    ...(def.budget ? { budget: def.budget } : {}),
  };
}

function singleTaskWorkflow(spec: SingleTaskSpec): WorkflowDef {
  const action = spec.action;
  // As in a workflow file: only an agent checks a budget, so on anything else it would be a silent no-op.
  if (spec.budget && action.kind !== 'agent') throw new Error(`a budget applies to agent tasks only, not to a ${action.kind} task`);
  const label = action.kind === 'run' ? action.run : action.kind === 'agent' ? `${action.agent}: ${action.prompt}` : action.kind;
  const name = spec.name ?? (label.length > 60 ? `${label.slice(0, 57)}…` : label);
  return {
    name,
    inputs: [],
    tasks: [
      {
        id: 'task',
        name,
        needs: [],
        action,
        retry: { ...DEFAULT_RETRY, max: spec.retries ?? 0 },
        continueOnError: false,
        priority: 0,
        ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.budget ? { budget: spec.budget } : {}),
      },
    ],
  };
}
