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

/** A persisted engine event: compact, since the rows it refers to hold the full state. */
export interface StoredEvent {
  type: string;
  at: number;
  runId?: string;
  taskId?: string;
  detail?: string;
}

/**
 * The fields of a row that one transition changed: `set` holds the new values, `unset`
 * names the fields it removed (undefined has no encoding of its own in JSON, and a missing
 * key must not mean "removed"). Applying one sets exactly those fields, so applying it
 * twice is harmless.
 */
export interface RowPatch<T> {
  id: string;
  set: Partial<T>;
  unset?: (keyof T & string)[];
}

/**
 * One journal record. A row is recorded whole when it is created (or when the writer has no
 * earlier version of it at hand) and as a patch of what changed after that; every other
 * record is the whole row it writes. Each record is idempotent: replaying one twice, or a
 * record already in the snapshot, changes nothing.
 */
export type StoreRecord =
  | { t: 'run'; run: RunRecord }
  | { t: 'task'; task: TaskRecord }
  /** Changed fields of a run recorded before (see RowPatch). */
  | ({ t: 'run-patch' } & RowPatch<RunRecord>)
  /** Changed fields of a task recorded before: most records of a busy journal (start, complete, fail, retry…). */
  | ({ t: 'task-patch' } & RowPatch<TaskRecord>)
  | { t: 'result'; result: TaskResult }
  | { t: 'event'; event: StoredEvent }
  | { t: 'notification'; notification: NotificationRecord }
  | { t: 'usage'; usage: TokenUsageRecord }
  | { t: 'gate'; gate: QualityGateRecord }
  | { t: 'checkpoint'; checkpoint: CheckpointRecord }
  /** Webhook outbox row (new, retried, delivered or dead-lettered). */
  | { t: 'webhook'; delivery: WebhookDeliveryRecord }
  /**
   * How far a consumer of the events table (`webhooks`: the outbox) has turned events into
   * rows of its own: on start it resumes after `seq`, so nothing is missed and nothing redone.
   */
  | { t: 'cursor'; name: string; seq: number }
  | { t: 'delete-runs'; runIds: string[] };

/** A record as the journal holds it: with its sequence number. */
export interface SequencedRecord {
  seq: number;
  record: StoreRecord;
}
