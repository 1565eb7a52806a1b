import { deepLink } from '../model/deep-link.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';

/** Long outputs are cut: a webhook announces, the API serves the full result. */
const OUTPUT_LIMIT = 4000;

/** A run as webhook bodies describe it, with a link that opens it in VS Code. */
export function runPayload(run: RunRecord) {
  const d = run.delivery ?? {};
  return {
    id: run.id,
    name: run.name,
    state: run.state,
    createdAt: new Date(run.createdAt).toISOString(),
    ...(run.finishedAt ? { finishedAt: new Date(run.finishedAt).toISOString() } : {}),
    ...(d.branch ? { branch: d.branch } : {}),
    ...(d.pullRequest ? { pullRequestUrl: d.pullRequest.url } : {}),
    link: deepLink({ runId: run.id }),
  };
}

/** A task as webhook bodies describe it. */
export function taskPayload(task: TaskRecord) {
  return {
    id: task.id,
    key: task.key,
    name: task.name,
    state: task.state,
    attempt: task.attempt,
    ...(task.error ? { error: task.error } : {}),
    link: deepLink({ runId: task.runId, taskId: task.id }),
  };
}

/** A task's result, its output cut at `OUTPUT_LIMIT` characters. */
export function resultPayload(result: TaskResult) {
  const output = result.output.length > OUTPUT_LIMIT ? `${result.output.slice(0, OUTPUT_LIMIT)}…` : result.output;
  return { output, ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}) };
}
