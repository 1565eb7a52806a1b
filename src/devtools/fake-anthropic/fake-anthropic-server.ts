import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Disposable } from '../../core/util/disposable.ts';
import type { MessagesRequestBody, RecordedRequest, ScriptedBlock, ScriptedResponse, ScriptedUsage } from './scripted-response.ts';

/** Picks the answer to a request when the queue is empty (e.g. a scripted agent for the demo). */
export type Responder = (request: RecordedRequest, index: number) => ScriptedResponse | Promise<ScriptedResponse>;

export interface FakeAnthropicOptions {
  /** Key clients must send as `x-api-key`; a random one by default. */
  apiKey?: string;
  port?: number;
  responder?: Responder;
}

/**
 * A local HTTP server that speaks the Anthropic Messages API (`POST /v1/messages`,
 * JSON and SSE) well enough for the real `@anthropic-ai/sdk` to talk to it through
 * `baseURL`. Answers are scripted: a FIFO queue first, then the optional responder.
 * Binds 127.0.0.1 only and requires the API key, like the real service.
 */
export class FakeAnthropicServer implements Disposable {
  /** Every `/v1/messages` request in arrival order, including ones answered with an error. */
  readonly requests: RecordedRequest[] = [];
  private readonly queue: ScriptedResponse[] = [];
  /** Set during an outage (see `outage`). */
  private down: Extract<ScriptedResponse, { kind: 'error' }> | undefined;
  private readonly sockets = new Set<Socket>();
  private messageCount = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly apiKey: string,
    private readonly responder: Responder | undefined,
  ) {}

  static async start(options: FakeAnthropicOptions = {}): Promise<FakeAnthropicServer> {
    const apiKey = options.apiKey ?? `sk-fake-${randomBytes(12).toString('hex')}`;
    let instance: FakeAnthropicServer | undefined;
    const server = createServer((req, res) => {
      instance!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'api_error', `fake-anthropic: ${String(error)}`);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('fake-anthropic: no TCP address');
    instance = new FakeAnthropicServer(server, `http://127.0.0.1:${address.port}`, apiKey, options.responder);
    server.on('connection', (socket) => {
      instance!.sockets.add(socket);
      socket.on('close', () => instance!.sockets.delete(socket));
    });
    return instance;
  }

  /** Queues answers for the next requests, in order. */
  enqueue(...responses: ScriptedResponse[]): void {
    this.queue.push(...responses);
  }

  /**
   * An outage: every request is answered with `error` (a 529 overload, a 429 rate limit, a usage
   * limit as a 400 with its message), without consuming the script, until `recover()`. Requests
   * during an outage are recorded like any other, so a test can count the SDK's retries.
   */
  outage(error: Extract<ScriptedResponse, { kind: 'error' }>): void {
    this.down = error;
  }

  /** The outage ends: requests get scripted answers again. */
  recover(): void {
    this.down = undefined;
  }

  /** Scripted answers not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  dispose(): void {
    void this.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'POST' || path !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `fake-anthropic: no route for ${req.method} ${path}`);
    }
    if (!this.authorised(req)) {
      return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    let body: MessagesRequestBody;
    try {
      body = JSON.parse(await readBody(req)) as MessagesRequestBody;
    } catch {
      return sendError(res, 400, 'invalid_request_error', 'request body is not valid JSON');
    }
    const request: RecordedRequest = { at: Date.now(), path, headers: { ...req.headers }, body };
    this.requests.push(request);
    res.once('finish', () => (request.finishedAt = Date.now()));
    const index = this.requests.length - 1;
    const scripted = this.down ?? this.queue.shift() ?? (this.responder ? await this.responder(request, index) : undefined);
    if (!scripted) {
      // `x-should-retry: false` keeps the SDK from retrying a test that ran out of script.
      res.setHeader('x-should-retry', 'false');
      return sendError(res, 500, 'api_error', 'fake-anthropic: no scripted response left for this request');
    }
    if ('delayMs' in scripted && scripted.delayMs) await sleepUnlessClosed(scripted.delayMs, res);
    if (gone(res)) return;

    switch (scripted.kind) {
      case 'error': {
        if (scripted.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(scripted.retryAfterSeconds));
        const type =
          scripted.status === 429
            ? 'rate_limit_error'
            : scripted.status === 529
              ? 'overloaded_error'
              : scripted.status >= 500
                ? 'api_error'
                : 'invalid_request_error';
        return sendError(res, scripted.status, type, scripted.message ?? `scripted ${scripted.status}`);
      }
      case 'malformed': {
        startSse(res);
        writeEvent(res, 'message_start', { type: 'message_start', message: this.messageShell(body, { input_tokens: 1 }) });
        res.write('event: content_block_start\ndata: {"type": "content_block_start", "index": 0, "content_blo\n\n');
        res.end();
        return;
      }
      case 'stall': {
        startSse(res);
        writeEvent(res, 'message_start', { type: 'message_start', message: this.messageShell(body, { input_tokens: 1 }) });
        writeEvent(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
        if (scripted.text)
          writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: scripted.text } });
        // Never ends on its own; close() or the client going away ends it.
        return;
      }
      case 'message':
        return this.sendMessage(res, body, scripted);
    }
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers['x-api-key'] ?? bearer(req.headers.authorization);
    if (typeof header !== 'string') return false;
    const a = Buffer.from(header);
    const b = Buffer.from(this.apiKey);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private messageShell(body: MessagesRequestBody, usage: Required<ScriptedUsage> | { input_tokens: number }) {
    return {
      id: `msg_fake_${++this.messageCount}_${randomBytes(4).toString('hex')}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [] as unknown[],
      stop_reason: null,
      stop_sequence: null,
      usage: { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0, ...usage },
    };
  }

  private async sendMessage(res: ServerResponse, body: MessagesRequestBody, scripted: Extract<ScriptedResponse, { kind: 'message' }>): Promise<void> {
    const blocks = scripted.content.map(withToolId);
    const usage = completeUsage(scripted.usage, body, blocks);
    const stopReason = scripted.stopReason ?? (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    const content = blocks.map((b) => (b.type === 'text' ? { type: 'text', text: b.text } : { type: 'tool_use', id: b.id, name: b.name, input: b.input }));

    if (!body.stream) {
      const message = { ...this.messageShell(body, usage), content, stop_reason: stopReason };
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${this.requests.length}` });
      res.end(JSON.stringify(message));
      return;
    }

    const pause = async () => {
      if (scripted.chunkDelayMs) await sleepUnlessClosed(scripted.chunkDelayMs, res);
    };
    startSse(res);
    // Real order: message_start (input + cache usage), per block start/delta…/stop, message_delta (stop reason, output usage), message_stop.
    writeEvent(res, 'message_start', {
      type: 'message_start',
      message: this.messageShell(body, { ...usage, output_tokens: Math.min(1, usage.output_tokens) }),
    });
    writeEvent(res, 'ping', { type: 'ping' });
    for (const [index, block] of blocks.entries()) {
      if (gone(res)) return;
      if (block.type === 'text') {
        writeEvent(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const piece of chunks(block.text, 24)) {
          await pause();
          if (gone(res)) return;
          writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
        }
      } else {
        writeEvent(res, 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        for (const piece of chunks(JSON.stringify(block.input), 32)) {
          await pause();
          if (gone(res)) return;
          writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
      }
      writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index });
    }
    writeEvent(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    writeEvent(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }
}

type IdentifiedBlock = Extract<ScriptedBlock, { type: 'text' }> | (Extract<ScriptedBlock, { type: 'tool_use' }> & { id: string });

function withToolId(block: ScriptedBlock): IdentifiedBlock {
  if (block.type === 'text') return block;
  return { ...block, id: block.id ?? `toolu_fake_${randomBytes(8).toString('hex')}` };
}

/** Fills missing counts with size-based estimates (~4 characters a token), so usage is never absent. */
function completeUsage(given: ScriptedUsage | undefined, body: MessagesRequestBody, blocks: IdentifiedBlock[]): Required<ScriptedUsage> {
  const outChars = blocks.reduce((n, b) => n + (b.type === 'text' ? b.text.length : JSON.stringify(b.input).length + b.name.length), 0);
  return {
    input_tokens: given?.input_tokens ?? Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4)),
    output_tokens: given?.output_tokens ?? Math.max(1, Math.ceil(outChars / 4)),
    cache_creation_input_tokens: given?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: given?.cache_read_input_tokens ?? 0,
  };
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

function writeEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake_error' });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}

function bearer(value: string | undefined): string | undefined {
  return value?.startsWith('Bearer ') ? value.slice(7) : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** True once the client went away (a request's own `destroyed` turns true as soon as its body was read). */
function gone(res: ServerResponse): boolean {
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
    res.once('close', done);
  });
}
