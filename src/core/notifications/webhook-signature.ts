import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Orchestr8-Signature';
export const TIMESTAMP_HEADER = 'X-Orchestr8-Timestamp';
export const EVENT_HEADER = 'X-Orchestr8-Event';
export const EVENT_ID_HEADER = 'X-Orchestr8-Event-Id';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the value of the signature header. */
export function signWebhookBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Checks a signature header against the body, in constant time. For receivers (and
 * our tests): verify over the raw bytes received, before parsing the JSON.
 */
export function verifyWebhookSignature(body: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
