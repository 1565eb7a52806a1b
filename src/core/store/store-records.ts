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
 * One journal record: the full new state of one row (never a delta), so replaying
 * a record twice is harmless and the newest record of a row wins.
 */
export type StoreRecord =
  | { t: 'run'; run: RunRecord }
  | { t: 'task'; task: TaskRecord }
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
