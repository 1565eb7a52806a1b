import type { WebhookDeliveryRecord } from '../model/records.ts';

/**
 * The durable webhook outbox as the dispatcher sees it. The engine implements it over
 * its store (a table plus a journal record kind), so deliveries survive restarts.
 */
export interface WebhookOutboxStore {
  get(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Pending deliveries whose next attempt is due, oldest first. */
  due(now: number, limit: number): Promise<WebhookDeliveryRecord[]>;
  /** Earliest next attempt of any pending delivery. */
  nextAttemptAt(): Promise<number | undefined>;
  /**
   * The seq of the last engine event turned into deliveries (or found to need none): a
   * restarted dispatcher queues the events after it. Undefined before the first `save`
   * of one (webhooks just configured: history is not sent).
   */
  cursor(): Promise<number | undefined>;
  /** The seq of the newest durable event: where a dispatcher without a cursor starts. */
  lastEventSeq(): Promise<number>;
  /** Durably writes new or updated deliveries (full rows), and the cursor with them when given (one commit). */
  save(deliveries: WebhookDeliveryRecord[], cursor?: number): Promise<void>;
}
