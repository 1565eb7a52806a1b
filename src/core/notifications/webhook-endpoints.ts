import type { RunRecord } from '../model/records.ts';

/** The events a webhook endpoint can receive. */
export const WEBHOOK_EVENTS = [
  'task.completed',
  'task.failed',
  'workflow.completed',
  'workflow.failed',
  'pr.opened',
  'task.needs-input',
  'workflow.paused',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Where events go. Global endpoints come from settings; per-workflow ones from the `webhooks:` option. */
export interface WebhookEndpoint {
  url: string;
  /** Only these events (all of them by default). */
  events?: WebhookEventType[];
  /** `global` (default) or `env:NAME`: where the signing secret is read at delivery time. */
  secretRef?: string;
}

/** Per-workflow endpoints from `run.options.webhooks`: URLs, or `{ url, events, secret_env }` objects. */
export function workflowEndpoints(run: RunRecord | undefined): WebhookEndpoint[] {
  const raw = run?.options?.['webhooks'];
  if (!Array.isArray(raw)) return [];
  const out: WebhookEndpoint[] = [];
  for (const entry of raw) {
    if (typeof entry === 'string') out.push({ url: entry });
    else if (entry && typeof entry === 'object' && typeof (entry as { url?: unknown }).url === 'string') {
      const e = entry as { url: string; events?: unknown; secret_env?: unknown };
      out.push({
        url: e.url,
        ...(Array.isArray(e.events) ? { events: e.events.filter((x): x is WebhookEventType => WEBHOOK_EVENTS.includes(x as WebhookEventType)) } : {}),
        ...(typeof e.secret_env === 'string' ? { secretRef: `env:${e.secret_env}` } : {}),
      });
    }
  }
  return out;
}
