import type { WebhookDeliveryRecord } from '../model/records.ts';
import { backoffDelay } from '../scheduler/backoff.ts';
import { errorMessage, type Logger } from '../util/logger.ts';
import { EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhookBody } from './webhook-signature.ts';

/** How one delivery is signed, sent and retried. */
export interface WebhookSendOptions {
  /** The global signing secret (settings / ORCHESTR8_WEBHOOK_SECRET); never stored. */
  secret?: string;
  /** For `env:NAME` secrets. */
  env: Record<string, string | undefined>;
  /** Attempts before a delivery is dead-lettered (default 8). */
  maxAttempts?: number;
  /** First retry delay, doubled each further attempt up to `maxDelayMs` (defaults 2 s and 10 min). */
  backoffMs?: number;
  maxDelayMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  now: () => number;
  logger: Logger;
}

/**
 * One signed POST of a delivery; returns the row's new state: delivered, due again after a
 * backoff, or dead (out of attempts, or no secret to sign with: nothing is sent unsigned).
 */
export async function attemptDelivery(delivery: WebhookDeliveryRecord, o: WebhookSendOptions): Promise<WebhookDeliveryRecord> {
  const secret = secretFor(delivery.secretRef, o);
  if (!secret) {
    return { ...delivery, state: 'dead', lastError: `no signing secret (${delivery.secretRef}): webhooks are never sent unsigned` };
  }
  const attempts = delivery.attempts + 1;
  let error: string;
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'orchestr8-webhooks',
        [SIGNATURE_HEADER]: signWebhookBody(delivery.body, secret),
        [TIMESTAMP_HEADER]: String(Math.floor(o.now() / 1000)),
        [EVENT_HEADER]: delivery.event,
        [EVENT_ID_HEADER]: delivery.eventId,
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    // The answer's body is never read: discarding it frees the connection, and failing to changes nothing.
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) {
      const { lastError: _dropped, ...rest } = delivery;
      return { ...rest, state: 'delivered', attempts, deliveredAt: o.now() };
    }
    error = `HTTP ${response.status}`;
  } catch (e) {
    error = errorMessage((e as { cause?: unknown }).cause ?? e);
  }
  const max = o.maxAttempts ?? 8;
  if (attempts >= max) {
    o.logger.warn(`webhook ${delivery.event} to ${delivery.url} dead-lettered after ${attempts} attempts: ${error}`);
    return { ...delivery, state: 'dead', attempts, lastError: error };
  }
  const delay = backoffDelay({ max, backoffMs: o.backoffMs ?? 2000, factor: 2, maxDelayMs: o.maxDelayMs ?? 600_000, jitter: true }, attempts);
  return { ...delivery, attempts, nextAttemptAt: o.now() + delay, lastError: error };
}

function secretFor(ref: string, o: WebhookSendOptions): string | undefined {
  if (ref === 'global') return o.secret || undefined;
  if (ref.startsWith('env:')) return o.env[ref.slice(4)] || undefined;
  return undefined;
}
