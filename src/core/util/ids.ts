import { randomUUID } from 'node:crypto';

/** Run ids: 12 lowercase hex digits, so a short prefix is enough to name one (like git). */
export function newRunId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12); // randomUUID draws from a pooled entropy buffer
}

/**
 * A task id, `<runId>.<taskKey>`: unique, readable, and safe in URLs. A run id never has a dot,
 * so the first dot splits one. Make them with `taskId`, take them apart with `splitTaskId`.
 */
export type TaskId = `${string}.${string}`;

export function taskId(runId: string, key: string): TaskId {
  return `${runId}.${key}`;
}

/** The run id (or its prefix, as typed) and the task key of a task id; undefined for a run id. */
export function splitTaskId(id: string): { runId: string; key: string } | undefined {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) return undefined;
  return { runId: id.slice(0, dot), key: id.slice(dot + 1) };
}

/** Whether an id (typed by a user or a model) names a task rather than a run. */
export function isTaskId(id: string): id is TaskId {
  return splitTaskId(id) !== undefined;
}

/** The run an id names: a task id's run part, or the id itself when it names a run. */
export function runIdOf(id: string): string {
  return splitTaskId(id)?.runId ?? id;
}

export function newId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16);
}
