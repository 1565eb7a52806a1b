import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** An error with the HTTP status and a stable code for the JSON error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * DNS rebinding and cross-site requests: a browser page can make a request reach
 * 127.0.0.1, but it cannot make the Host header say so unless its own name resolves
 * there (rebinding: refused here, since the Host is then a foreign name), and it
 * always sends its Origin (refused unless it is this very server).
 */
export function checkHostAndOrigin(req: IncomingMessage, port: number): void {
  const host = req.headers.host;
  if (!host) throw new HttpError(403, 'bad_host', 'missing Host header');
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
  if (!m || !LOOPBACK_HOSTS.has(m[1]!) || (m[2] !== undefined && Number(m[2]) !== port)) {
    throw new HttpError(403, 'bad_host', `Host ${host} is not this loopback server`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [...LOOPBACK_HOSTS].map((h) => `http://${h}:${port}`);
    if (!own.includes(origin.toLowerCase())) throw new HttpError(403, 'bad_origin', `Origin ${origin} may not use this API`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'bad_origin', 'cross-site requests are refused');
}

/** Bearer token check in constant time (digests make the lengths equal, so length leaks nothing either). */
export function checkBearer(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  const given = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  if (!m || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, 'unauthorized', m ? 'invalid token' : 'missing bearer token (see api.json beside the state)');
  }
}

/** Reads a JSON body of at most `limit` bytes (413 beyond it, before reading it all when the length is declared). */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, 'too_large', `body of ${declared} bytes exceeds the limit of ${limit}`);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'too_large', `body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'bad_json', `body is not valid JSON: ${(error as Error).message}`);
  }
}
