import type { Database } from 'sql.js';

/**
 * Versioned schema migrations, applied in order inside a transaction each. Never
 * edit a released migration: add a new one. Rows keep their full record as JSON in
 * `doc`; the other columns exist for queries and for people inspecting the file.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('last_seq', '0');
      CREATE TABLE workflow_executions (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
        created_at INTEGER NOT NULL, finished_at INTEGER, doc TEXT NOT NULL);
      CREATE INDEX workflow_executions_created ON workflow_executions (created_at DESC);
      CREATE INDEX workflow_executions_state ON workflow_executions (state);
      CREATE TABLE task_executions (
        id TEXT PRIMARY KEY, run_id TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
        retry_count INTEGER NOT NULL, ord INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX task_executions_run ON task_executions (run_id, ord);
      CREATE TABLE task_results (
        task_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, output TEXT NOT NULL,
        exit_code INTEGER, data TEXT, created_at INTEGER NOT NULL);
      CREATE INDEX task_results_run ON task_results (run_id);
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY, run_id TEXT NOT NULL, task_id TEXT, kind TEXT NOT NULL,
        title TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER);
      CREATE INDEX notifications_undelivered ON notifications (delivered_at, created_at);
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, type TEXT NOT NULL,
        run_id TEXT, task_id TEXT, detail TEXT);
      CREATE INDEX events_run ON events (run_id);
      CREATE TABLE token_usage (
        task_id TEXT NOT NULL, run_id TEXT NOT NULL, turn INTEGER NOT NULL, model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (task_id, turn));
      CREATE INDEX token_usage_run ON token_usage (run_id);
      CREATE TABLE quality_gates (
        run_id TEXT NOT NULL, task_id TEXT NOT NULL, gate TEXT NOT NULL, verdict TEXT NOT NULL,
        report TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (task_id, gate));
      CREATE INDEX quality_gates_run ON quality_gates (run_id);
      CREATE TABLE checkpoints (
        task_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, attempt INTEGER NOT NULL,
        state TEXT NOT NULL, updated_at INTEGER NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'webhook outbox',
    sql: `
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL, event TEXT NOT NULL, run_id TEXT, url TEXT NOT NULL,
        state TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL, delivered_at INTEGER, doc TEXT NOT NULL);
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
    `,
  },
  {
    version: 3,
    name: 'drop task_executions.retry_count',
    // Never read: a task's attempts are in its record (`doc`). Snapshots written before still open: they migrate here.
    sql: 'ALTER TABLE task_executions DROP COLUMN retry_count;',
  },
];

export function migrate(db: Database): void {
  db.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const current = (db.exec('SELECT COALESCE(MAX(version), 0) FROM schema_migrations')[0]?.values[0]?.[0] as number) ?? 0;
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.run('BEGIN');
    try {
      db.run(migration.sql);
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, Date.now()]);
      db.run('COMMIT');
    } catch (error) {
      db.run('ROLLBACK');
      throw new Error(`migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`);
    }
  }
}
