import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/core/notifications/webhook-signature.ts';

export interface ReceivedEvent {
  id: string;
  type: string;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A real webhook receiver, as a user would write one: verifies the signature over the
 * raw body before parsing (401 if it does not match), acknowledges with 204, and counts
 * how often each event id arrived. It can go down and come back on the same port.
 */
export class WebhookReceiver {
  /** Every verified request, in arrival order (duplicates included). */
  readonly received: ReceivedEvent[] = [];
  /** Requests refused for a bad or missing signature. */
  rejected = 0;
  private server?: Server;
  private port = 0;

  /** `delayMs`: how long it takes to answer, like a receiver doing real work. */
  constructor(
    private readonly secret: string,
    private readonly delayMs = 0,
  ) {}

  async start(): Promise<string> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      if (!verifyWebhookSignature(raw, req.headers['x-orchestr8-signature'] as string | undefined, this.secret)) {
        this.rejected++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      this.received.push({ id: String(body['id']), type: String(body['type']), body, headers: req.headers });
      res.writeHead(204).end();
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.port, '127.0.0.1', () => ok());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Goes down (connections refused) until `start()` again, on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  /** How many times each event id was accepted. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.received) m.set(r.id, (m.get(r.id) ?? 0) + 1);
    return m;
  }
}
