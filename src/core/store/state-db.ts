import type { Database, SqlValue, Statement } from 'sql.js';
import type {
  CheckpointRecord,
  NotificationRecord,
  QualityGateRecord,
  RunRecord,
  TaskRecord,
  TaskResult,
  TokenUsageRecord,
  WebhookDeliveryRecord,
} from '../model/records.ts';
import type { RunState } from '../model/task-state.ts';
import { upgradeRunRecord } from '../model/run-delivery.ts';
import { crashPoint } from '../util/crash-points.ts';
import { loadSqlJs } from './sqljs-loader.ts';
import { migrate } from './migrations.ts';
import { eventFromRow, gateFromRow, NOTIFICATION_COLUMNS, notificationFromRow, resultFromRow, tokenUsageFromRow } from './row-decoders.ts';
import { patchRow } from './row-patch.ts';
import { insertEvents, rowKey, writeRecord } from './row-writes.ts';
import type { SequencedRecord, StoreRecord, StoredEvent } from './store-records.ts';

/** Deferred records are applied after at most this long, or once this many are waiting. */
const DEFER_MAX_MS = 20;
const DEFER_MAX_RECORDS = 500;

/**
 * The tables live in sql.js's in-memory file system and durability comes from the
 * journal, so SQLite's own rollback-journal file and syncs are pure cost here. Only
 * this connection ever opens the file: an exclusive lock spares every transaction the
 * look for a hot journal (a failing path lookup in the emulated file system).
 */
function tune(db: Database): void {
  db.run('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA locking_mode = EXCLUSIVE');
}

export interface UsageSums {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costUsd: number;
}

/**
 * The queryable state: a sql.js database that journal records are applied to.
 * It lives in the index worker (index-worker/), of owners and readers alike, or in-process
 * in the memory twin (backend.ts), so all agree on what a record means.
 */
export class StateDb {
  private readonly statements = new Map<string, Statement>();
  /** `stmt` as a function, for the row writers. */
  private readonly prepare = (sql: string): Statement => this.stmt(sql);
  private appliedSeq: number;
  /** Durable records not yet in the tables (see `defer`). */
  private backlog: SequencedRecord[] = [];
  private backlogTimer: ReturnType<typeof setTimeout> | undefined;
  private backlogImmediate: ReturnType<typeof setImmediate> | undefined;

  private constructor(readonly db: Database) {
    tune(db);
    this.appliedSeq = Number(this.scalar("SELECT value FROM meta WHERE key = 'last_seq'") ?? 0);
  }

  static async open(snapshot?: Uint8Array): Promise<StateDb> {
    const SQL = await loadSqlJs();
    const db = new SQL.Database(snapshot);
    migrate(db);
    return new StateDb(db);
  }

  /** The last record in the tables, counting deferred ones. */
  get lastSeq(): number {
    return this.backlog.length ? this.backlog[this.backlog.length - 1]!.seq : this.appliedSeq;
  }

  /** Applies a batch in one transaction; records at or below `lastSeq` are already in and are skipped. */
  apply(entries: readonly SequencedRecord[]): void {
    this.catchUp();
    this.applyNow(entries);
  }

  /**
   * Takes records that are already durable and applies them later, many group commits
   * to one transaction: a sql.js transaction costs far more than a row, and nothing reads
   * the tables between commits on the hot path. Every query catches up first, so
   * readers never see a table behind the journal.
   */
  defer(entries: readonly SequencedRecord[]): void {
    for (const entry of entries) this.backlog.push(entry);
    // In a turn of its own, not in the one that resumes the batch's committers.
    if (this.backlog.length >= DEFER_MAX_RECORDS && !this.backlogImmediate) this.backlogImmediate = setImmediate(() => this.catchUp()).unref();
    this.backlogTimer ??= setTimeout(() => this.catchUp(), DEFER_MAX_MS).unref();
  }

  /** Applies deferred records now. */
  catchUp(): void {
    if (this.backlogTimer) clearTimeout(this.backlogTimer);
    if (this.backlogImmediate) clearImmediate(this.backlogImmediate);
    this.backlogTimer = undefined;
    this.backlogImmediate = undefined;
    if (this.backlog.length === 0) return;
    const entries = this.backlog;
    this.backlog = [];
    crashPoint('deferred.apply');
    this.applyNow(entries);
  }

  /**
   * One transaction. Rows are staged, patches merged into them, and each row written once
   * at the end: a task launched, started and completed within one deferred batch costs
   * one row write, and a sql.js statement costs far more than a merge.
   */
  private applyNow(entries: readonly SequencedRecord[]): void {
    const from = this.appliedSeq;
    let last = from;
    this.db.run('BEGIN');
    try {
      const rows = new Map<string, StoreRecord>();
      const events: SqlValue[] = [];
      for (const entry of entries) {
        if (entry.seq <= from) continue;
        last = entry.seq;
        const record = entry.record;
        if (record.t === 'event') {
          const e = record.event;
          events.push(entry.seq, e.at, e.type, e.runId ?? null, e.taskId ?? null, e.detail ?? null);
          continue;
        }
        const key = rowKey(record);
        if (key !== undefined) {
          const staged = this.stage(rows.get(key), record);
          if (staged) rows.set(key, staged);
          continue;
        }
        if (record.t === 'delete-runs') {
          // Rows staged before the deletion are written first, so that it removes them.
          this.writeRows(rows);
          insertEvents(this.prepare, events.splice(0));
        }
        writeRecord(this.prepare, entry.seq, record);
      }
      this.writeRows(rows);
      insertEvents(this.prepare, events);
      if (last !== from) this.stmt("UPDATE meta SET value = ? WHERE key = 'last_seq'").run([String(last)]);
      this.db.run('COMMIT');
      this.appliedSeq = last;
    } catch (error) {
      this.db.run('ROLLBACK');
      throw error;
    }
  }

  /**
   * The whole-row record a row stands at after `record`: the record itself, or for a patch
   * the staged (or stored) row with the patch merged in. A patch of a row that no longer
   * exists (its run was removed) has nothing to change.
   */
  private stage(staged: StoreRecord | undefined, record: StoreRecord): StoreRecord | undefined {
    if (record.t === 'task-patch') {
      const task = staged?.t === 'task' ? staged.task : this.doc<TaskRecord>('SELECT doc FROM task_executions WHERE id = ?', [record.id]);
      return task && { t: 'task', task: patchRow(task, record) };
    }
    if (record.t === 'run-patch') {
      const run = staged?.t === 'run' ? staged.run : this.doc<RunRecord>('SELECT doc FROM workflow_executions WHERE id = ?', [record.id]);
      return run && { t: 'run', run: patchRow(run, record) };
    }
    return record;
  }

  private writeRows(rows: Map<string, StoreRecord>): void {
    for (const record of rows.values()) writeRecord(this.prepare, 0, record);
    rows.clear();
  }

  export(): Uint8Array {
    this.catchUp();
    // sql.js (1.16) exports through SQLite's backup API: the connection stays open, and so do
    // the prepared statements and the pragmas set on it.
    return this.db.export();
  }

  close(): void {
    if (this.backlogTimer) clearTimeout(this.backlogTimer);
    if (this.backlogImmediate) clearImmediate(this.backlogImmediate);
    for (const statement of this.statements.values()) statement.free();
    this.statements.clear();
    this.db.close();
  }

  // ---- queries -------------------------------------------------------------

  getRun(id: string): RunRecord | undefined {
    const run = this.doc<RunRecord>('SELECT doc FROM workflow_executions WHERE id = ?', [id]);
    return run && upgradeRunRecord(run);
  }

  /** Run ids starting with `prefix` (at most `limit`), for short-id lookups. */
  runIdsByPrefix(prefix: string, limit = 2): string[] {
    return this.column<string>('SELECT id FROM workflow_executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?', [prefix, `${prefix}\uffff`, limit]);
  }

  listRuns(limit: number, offset: number, states?: RunState[]): { runs: RunRecord[]; total: number } {
    const where = states?.length ? `WHERE state IN (${states.map(() => '?').join(',')})` : '';
    const params: SqlValue[] = states ?? [];
    const runs = this.docs<RunRecord>(`SELECT doc FROM workflow_executions ${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, [
      ...params,
      limit,
      offset,
    ]).map(upgradeRunRecord);
    const total = Number(this.scalar(`SELECT COUNT(*) FROM workflow_executions ${where}`, params) ?? 0);
    return { runs, total };
  }

  runsInState(state: RunState): RunRecord[] {
    return this.docs<RunRecord>('SELECT doc FROM workflow_executions WHERE state = ? ORDER BY created_at', [state]).map(upgradeRunRecord);
  }

  /**
   * What a snapshot's active-set sidecar holds (see active-sidecar.ts): runs not finished or
   * not finalized, with their tasks, and the newest run's creation time. Finished runs are
   * filtered in SQL, so the history's rows are not decoded.
   */
  activeRuns(): { runs: { run: RunRecord; tasks: TaskRecord[] }[]; newestCreatedAt: number } {
    const runs = this.docs<RunRecord>(
      "SELECT doc FROM workflow_executions WHERE state NOT IN ('completed', 'failed', 'cancelled') OR json_extract(doc, '$.finalized') = 0 ORDER BY created_at",
      [],
    ).map((run) => ({ run: upgradeRunRecord(run), tasks: this.getTasks(run.id) }));
    const newest = this.scalar('SELECT MAX(created_at) FROM workflow_executions');
    return { runs, newestCreatedAt: typeof newest === 'number' ? newest : -Infinity };
  }

  finishedRunIds(before: number): string[] {
    return this.column<string>("SELECT id FROM workflow_executions WHERE state != 'running' AND finished_at < ?", [before]);
  }

  getTasks(runId: string): TaskRecord[] {
    return this.docs<TaskRecord>('SELECT doc FROM task_executions WHERE run_id = ? ORDER BY ord', [runId]);
  }

  getTask(id: string): TaskRecord | undefined {
    return this.doc<TaskRecord>('SELECT doc FROM task_executions WHERE id = ?', [id]);
  }

  getResult(taskId: string): TaskResult | undefined {
    const row = this.row('SELECT task_id, run_id, output, exit_code, data, created_at FROM task_results WHERE task_id = ?', [taskId]);
    return row && resultFromRow(row);
  }

  undeliveredNotifications(): NotificationRecord[] {
    return this.rows(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE delivered_at IS NULL ORDER BY created_at`, []).map(notificationFromRow);
  }

  getNotification(id: string): NotificationRecord | undefined {
    const r = this.row(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?`, [id]);
    return r && notificationFromRow(r);
  }

  /** Token and cost sums of a run (`runId`) or a task (`taskId`). */
  usage(filter: { runId: string } | { taskId: string }): UsageSums {
    const [column, value] = 'runId' in filter ? ['run_id', filter.runId] : ['task_id', filter.taskId];
    const r = this.row(
      'SELECT COALESCE(SUM(input_tokens),0), COALESCE(SUM(output_tokens),0), COALESCE(SUM(cache_write_tokens),0), ' +
        `COALESCE(SUM(cache_read_tokens),0), COALESCE(SUM(cost_usd),0) FROM token_usage WHERE ${column} = ?`,
      [value],
    )!;
    return {
      inputTokens: r[0] as number,
      outputTokens: r[1] as number,
      cacheWriteTokens: r[2] as number,
      cacheReadTokens: r[3] as number,
      costUsd: r[4] as number,
    };
  }

  tokenUsage(taskId: string): TokenUsageRecord[] {
    return this.rows(
      'SELECT task_id, run_id, turn, model, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, created_at ' +
        'FROM token_usage WHERE task_id = ? ORDER BY turn',
      [taskId],
    ).map(tokenUsageFromRow);
  }

  gates(runId: string): QualityGateRecord[] {
    return this.rows('SELECT run_id, task_id, gate, verdict, report, created_at FROM quality_gates WHERE run_id = ? ORDER BY gate', [runId]).map(gateFromRow);
  }

  checkpoint(taskId: string): CheckpointRecord | undefined {
    const r = this.row('SELECT task_id, attempt, state, updated_at FROM checkpoints WHERE task_id = ?', [taskId]);
    return r ? { taskId: r[0] as string, attempt: r[1] as number, state: JSON.parse(r[2] as string), updatedAt: r[3] as number } : undefined;
  }

  /** Persisted events after `seq`, oldest first. */
  eventsAfter(seq: number, limit = 1000): (StoredEvent & { seq: number })[] {
    return this.rows('SELECT seq, at, type, run_id, task_id, detail FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [seq, limit]).map(eventFromRow);
  }

  getWebhookDelivery(id: string): WebhookDeliveryRecord | undefined {
    return this.doc<WebhookDeliveryRecord>('SELECT doc FROM webhook_deliveries WHERE id = ?', [id]);
  }

  /** Pending webhook deliveries whose next attempt is due, oldest first. */
  dueWebhookDeliveries(now: number, limit: number): WebhookDeliveryRecord[] {
    return this.docs<WebhookDeliveryRecord>(
      "SELECT doc FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?",
      [now, limit],
    );
  }

  /** Earliest next attempt of a pending delivery, if any. */
  nextWebhookAttempt(): number | undefined {
    const v = this.scalar("SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'");
    return v === null || v === undefined ? undefined : Number(v);
  }

  /** Where a consumer of the events table resumes (see the `cursor` record); undefined before it first saved one. */
  cursor(name: string): number | undefined {
    const v = this.scalar('SELECT value FROM meta WHERE key = ?', [`cursor.${name}`]);
    return v === null || v === undefined ? undefined : Number(v);
  }

  /** The seq of the newest event kept (0 when none). */
  lastEventSeq(): number {
    return Number(this.scalar('SELECT MAX(seq) FROM events') ?? 0);
  }

  /** Deliveries in a state (dead letters for the user to see), newest first. */
  webhookDeliveries(state: WebhookDeliveryRecord['state'], limit: number): WebhookDeliveryRecord[] {
    return this.docs<WebhookDeliveryRecord>('SELECT doc FROM webhook_deliveries WHERE state = ? ORDER BY created_at DESC LIMIT ?', [state, limit]);
  }

  // ---- helpers -------------------------------------------------------------

  private stmt(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private rows(sql: string, params: SqlValue[]): SqlValue[][] {
    if (this.backlog.length) this.catchUp();
    const statement = this.stmt(sql);
    statement.bind(params);
    const out: SqlValue[][] = [];
    try {
      while (statement.step()) out.push(statement.get());
    } finally {
      statement.reset();
    }
    return out;
  }

  private row(sql: string, params: SqlValue[]): SqlValue[] | undefined {
    return this.rows(sql, params)[0];
  }

  private scalar(sql: string, params: SqlValue[] = []): SqlValue | undefined {
    return this.row(sql, params)?.[0];
  }

  private column<T>(sql: string, params: SqlValue[]): T[] {
    return this.rows(sql, params).map((r) => r[0] as T);
  }

  private docs<T>(sql: string, params: SqlValue[]): T[] {
    return this.rows(sql, params).map((r) => JSON.parse(r[0] as string) as T);
  }

  private doc<T>(sql: string, params: SqlValue[]): T | undefined {
    const r = this.row(sql, params);
    return r ? (JSON.parse(r[0] as string) as T) : undefined;
  }
}
