import type { SqlValue } from 'sql.js';
import type { NotificationRecord, QualityGateRecord, TaskResult, TokenUsageRecord } from '../model/records.ts';
import type { StoredEvent } from './store-records.ts';

/** Columns a notification row is read with, in the order `notificationFromRow` expects. */
export const NOTIFICATION_COLUMNS = 'id, run_id, task_id, kind, title, body, created_at, delivered_at';

export function notificationFromRow(r: SqlValue[]): NotificationRecord {
  const n: NotificationRecord = {
    id: r[0] as string,
    runId: r[1] as string,
    kind: r[3] as NotificationRecord['kind'],
    title: r[4] as string,
    body: r[5] as string,
    createdAt: r[6] as number,
  };
  if (r[2] !== null) n.taskId = r[2] as string;
  if (r[7] !== null) n.deliveredAt = r[7] as number;
  return n;
}

/** Columns: task_id, run_id, output, exit_code, data, created_at. */
export function resultFromRow(row: SqlValue[]): TaskResult {
  const result: TaskResult = { taskId: row[0] as string, runId: row[1] as string, output: row[2] as string, createdAt: row[5] as number };
  if (row[3] !== null) result.exitCode = row[3] as number;
  if (row[4] !== null) result.data = JSON.parse(row[4] as string);
  return result;
}

/** Columns: task_id, run_id, turn, model, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, created_at. */
export function tokenUsageFromRow(r: SqlValue[]): TokenUsageRecord {
  return {
    taskId: r[0] as string,
    runId: r[1] as string,
    turn: r[2] as number,
    model: r[3] as string,
    inputTokens: r[4] as number,
    outputTokens: r[5] as number,
    cacheWriteTokens: r[6] as number,
    cacheReadTokens: r[7] as number,
    costUsd: r[8] as number,
    createdAt: r[9] as number,
  };
}

/** Columns: run_id, task_id, gate, verdict, report, created_at. */
export function gateFromRow(r: SqlValue[]): QualityGateRecord {
  const g: QualityGateRecord = {
    runId: r[0] as string,
    taskId: r[1] as string,
    gate: r[2] as string,
    verdict: r[3] as QualityGateRecord['verdict'],
    createdAt: r[5] as number,
  };
  if (r[4] !== null) g.report = r[4] as string;
  return g;
}

/** Columns: seq, at, type, run_id, task_id, detail. */
export function eventFromRow(r: SqlValue[]): StoredEvent & { seq: number } {
  const e: StoredEvent & { seq: number } = { seq: r[0] as number, at: r[1] as number, type: r[2] as string };
  if (r[3] !== null) e.runId = r[3] as string;
  if (r[4] !== null) e.taskId = r[4] as string;
  if (r[5] !== null) e.detail = r[5] as string;
  return e;
}
