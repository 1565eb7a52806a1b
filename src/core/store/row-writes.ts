import type { SqlValue, Statement } from 'sql.js';
import type { StoreRecord } from './store-records.ts';
import { runIdOf } from '../util/ids.ts';

const EVENT_COLUMNS = 6;
const EVENTS_PER_STATEMENT = 64;
const eventsInsert = (rows: number) =>
  `INSERT OR REPLACE INTO events (seq, at, type, run_id, task_id, detail) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`;
const INSERT_EVENT = eventsInsert(1);
const INSERT_EVENTS = eventsInsert(EVENTS_PER_STATEMENT);

/** Tables holding rows of a run, by `run_id`: all removed with it. */
const RUN_TABLES = ['task_executions', 'task_results', 'notifications', 'events', 'token_usage', 'quality_gates', 'checkpoints'];

/** A prepared statement for `sql`, cached by the caller. */
export type PrepareStatement = (sql: string) => Statement;

/** The row a record writes whole (INSERT OR REPLACE by id), or patches (`run-patch`, `task-patch`). */
export function rowKey(record: StoreRecord): string | undefined {
  switch (record.t) {
    case 'run':
      return `r ${record.run.id}`;
    case 'run-patch':
      return `r ${record.id}`;
    case 'task':
      return `t ${record.task.id}`;
    case 'task-patch':
      return `t ${record.id}`;
    case 'webhook':
      return `w ${record.delivery.id}`;
    case 'checkpoint':
      return `c ${record.checkpoint.taskId}`;
    default:
      return undefined;
  }
}

const rowJsonCache = new WeakMap<object, string>();

/**
 * JSON of a run or task row for the `doc` column, computed once per object: rows are never
 * mutated (every move makes a new one), and the same row may be written by several batches.
 */
function rowJson(row: object): string {
  let json = rowJsonCache.get(row);
  if (json === undefined) {
    json = JSON.stringify(row);
    rowJsonCache.set(row, json);
  }
  return json;
}

/** Writes one record's rows (patches are merged into whole rows before they get here). */
export function writeRecord(stmt: PrepareStatement, seq: number, record: StoreRecord): void {
  switch (record.t) {
    case 'run': {
      const r = record.run;
      stmt('INSERT OR REPLACE INTO workflow_executions (id, name, state, created_at, finished_at, doc) VALUES (?, ?, ?, ?, ?, ?)').run([
        r.id,
        r.name,
        r.state,
        r.createdAt,
        r.finishedAt ?? null,
        rowJson(r),
      ]);
      return;
    }
    case 'task': {
      const t = record.task;
      stmt('INSERT OR REPLACE INTO task_executions (id, run_id, key, state, ord, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)').run([
        t.id,
        t.runId,
        t.key,
        t.state,
        t.order,
        t.updatedAt,
        rowJson(t),
      ]);
      return;
    }
    case 'result': {
      const r = record.result;
      stmt('INSERT OR REPLACE INTO task_results (task_id, run_id, output, exit_code, data, created_at) VALUES (?, ?, ?, ?, ?, ?)').run([
        r.taskId,
        r.runId,
        r.output,
        r.exitCode ?? null,
        r.data === undefined ? null : JSON.stringify(r.data),
        r.createdAt,
      ]);
      return;
    }
    case 'event':
      insertEvents(stmt, [seq, record.event.at, record.event.type, record.event.runId ?? null, record.event.taskId ?? null, record.event.detail ?? null]);
      return;
    case 'notification': {
      const n = record.notification;
      stmt('INSERT OR REPLACE INTO notifications (id, run_id, task_id, kind, title, body, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run([
        n.id,
        n.runId,
        n.taskId ?? null,
        n.kind,
        n.title,
        n.body,
        n.createdAt,
        n.deliveredAt ?? null,
      ]);
      return;
    }
    case 'usage': {
      const u = record.usage;
      stmt(
        'INSERT OR REPLACE INTO token_usage (task_id, run_id, turn, model, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, ' +
          'created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run([u.taskId, u.runId, u.turn, u.model, u.inputTokens, u.outputTokens, u.cacheWriteTokens, u.cacheReadTokens, u.costUsd, u.createdAt]);
      return;
    }
    case 'gate': {
      const g = record.gate;
      stmt('INSERT OR REPLACE INTO quality_gates (run_id, task_id, gate, verdict, report, created_at) VALUES (?, ?, ?, ?, ?, ?)').run([
        g.runId,
        g.taskId,
        g.gate,
        g.verdict,
        g.report ?? null,
        g.createdAt,
      ]);
      return;
    }
    case 'checkpoint': {
      const c = record.checkpoint;
      stmt('INSERT OR REPLACE INTO checkpoints (task_id, run_id, attempt, state, updated_at) VALUES (?, ?, ?, ?, ?)').run([
        c.taskId,
        runIdOf(c.taskId),
        c.attempt,
        JSON.stringify(c.state),
        c.updatedAt,
      ]);
      return;
    }
    case 'webhook': {
      const d = record.delivery;
      stmt(
        'INSERT OR REPLACE INTO webhook_deliveries (id, event_id, event, run_id, url, state, attempts, next_attempt_at, created_at, delivered_at, doc) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run([d.id, d.eventId, d.event, d.runId ?? null, d.url, d.state, d.attempts, d.nextAttemptAt, d.createdAt, d.deliveredAt ?? null, JSON.stringify(d)]);
      return;
    }
    case 'run-patch':
    case 'task-patch':
      return; // staged into whole rows by StateDb.applyNow
    case 'cursor':
      stmt('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run([`cursor.${record.name}`, String(record.seq)]);
      return;
    case 'delete-runs': {
      // Everything a run left, its events included, goes in the transaction that removes the run.
      for (const table of RUN_TABLES) {
        for (const id of record.runIds) stmt(`DELETE FROM ${table} WHERE run_id = ?`).run([id]);
      }
      for (const id of record.runIds) stmt('DELETE FROM workflow_executions WHERE id = ?').run([id]);
      return;
    }
  }
}

/** Event rows (6 values each) in statements of many rows: events are most of the records, and sql.js pays per statement. */
export function insertEvents(stmt: PrepareStatement, values: SqlValue[]): void {
  const row = EVENT_COLUMNS;
  let i = 0;
  for (; values.length - i >= row * EVENTS_PER_STATEMENT; i += row * EVENTS_PER_STATEMENT) {
    stmt(INSERT_EVENTS).run(values.slice(i, i + row * EVENTS_PER_STATEMENT));
  }
  for (; i < values.length; i += row) stmt(INSERT_EVENT).run(values.slice(i, i + row));
}
