import { randomUUID } from 'node:crypto';

/** Run ids: 12 lowercase hex digits, so a short prefix is enough to name one (like git). */
export function newRunId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12); // randomUUID draws from a pooled entropy buffer
}

/** Task ids are `<runId>.<taskKey>`: unique, readable, and safe in URLs. */
export function taskId(runId: string, key: string): string {
  return `${runId}.${key}`;
}

export function splitTaskId(id: string): { runId: string; key: string } | undefined {
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) return undefined;
  return { runId: id.slice(0, dot), key: id.slice(dot + 1) };
}

export function newId(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16);
}
