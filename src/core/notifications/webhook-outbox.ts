import type { WebhookDeliveryRecord } from '../model/records.ts';

/**
 * The durable webhook outbox as the dispatcher sees it. The engine implements it over
 * its store (a table plus a journal record kind), so deliveries survive restarts.
 */
export interface WebhookOutboxStore {
  get(id: string): WebhookDeliveryRecord | undefined;
  /** Pending deliveries whose next attempt is due, oldest first. */
  due(now: number, limit: number): WebhookDeliveryRecord[];
  /** Earliest next attempt of any pending delivery. */
  nextAttemptAt(): number | undefined;
  /** When the newest delivery was queued: where a restarted dispatcher looks back from. */
  latestCreatedAt(): number | undefined;
  /** Durably writes new or updated deliveries (full rows). */
  save(deliveries: WebhookDeliveryRecord[]): Promise<void>;
}
