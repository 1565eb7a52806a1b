import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { EngineApi } from '../../core/engine/engine-api.ts';
import { LAUNCH_FIELD_NAMES, singleTaskFromInput, type LaunchFieldNames } from '../../core/engine/launch-input.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import type { WebhookDeliveryRecord } from '../../core/model/records.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { silentLogger, type Logger } from '../../core/util/logger.ts';
import { loadWorkflowFile, parseWorkflow } from '../../core/workflow/parse-workflow.ts';
import { newApiToken, removeDiscovery, writeDiscovery } from './api-discovery.ts';
import {
  clearQuerySchema,
  launchTaskSchema,
  launchWorkflowSchema,
  listQuerySchema,
  markDeliveredSchema,
  signalSchema,
  answerSchema,
  pauseSchema,
  continueSchema,
  webhookQuerySchema,
} from './api-schemas.ts';
import { toHttpError } from './error-status.ts';
import { openEventStream } from './event-stream.ts';
import { HttpError, checkBearer, checkHostAndOrigin, readJsonBody } from './request-guard.ts';

/** The engine as the API serves it; `webhookDeliveries` when the engine has an outbox (Engine, ReadOnlyEngine). */
export type ServedEngine = EngineApi & {
  webhookDeliveries?(state?: WebhookDeliveryRecord['state'], limit?: number): Promise<WebhookDeliveryRecord[]>;
  /** The durable events after a seq, for `/v1/events` clients that resume (Engine, ReadOnlyEngine). */
  eventsAfter?(seq: number): Promise<{ events: EngineEvent[]; next: number }>;
};

export interface ApiServerOptions {
  engine: ServedEngine;
  /** The state folder: `api.json` (port and token, mode 0600) is written here. */
  stateDir: string;
  /** Folder relative workflow paths and runs resolve against (the project). */
  cwd: string;
  /** A fixed token (tests); a random 256-bit one by default. */
  token?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Largest request body (default 1 MiB). */
  bodyLimit?: number;
  logger?: Logger;
}

type Params = Record<string, string>;
interface Route {
  method: string;
  pattern: RegExp;
  handle(req: IncomingMessage, params: Params, query: URLSearchParams, res: ServerResponse): Promise<Reply | undefined>;
}
interface Reply {
  status: number;
  body: unknown;
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });

/** POST /v1/tasks body fields, as messages about a launch name them (the timeout comes in milliseconds). */
const HTTP_FIELDS: LaunchFieldNames = Object.fromEntries(
  Object.entries({ ...LAUNCH_FIELD_NAMES, timeout: 'timeoutMs' }).map(([field, name]) => [field, `"${name}"`]),
) as LaunchFieldNames;

/**
 * The local HTTP API: the engine API for scripts, other agents and other processes (the
 * CLI while VS Code owns the state). Loopback only, bearer token, Host and Origin checked,
 * bodies validated and size-limited. Dispose to stop it and remove `api.json`.
 */
export class ApiServer implements Disposable {
  readonly token: string;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<Disposable>();
  private readonly routes: Route[];
  private readonly logger: Logger;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly options: ApiServerOptions,
    token: string,
  ) {
    this.token = token;
    this.logger = options.logger ?? silentLogger;
    this.routes = this.buildRoutes();
  }

  /** Listens on 127.0.0.1 and writes the discovery file. */
  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const server = createServer();
    const api = new ApiServer(server, options, options.token ?? newApiToken());
    server.on('request', (req, res) => void api.handle(req, res));
    server.on('connection', (socket) => {
      api.sockets.add(socket);
      socket.on('close', () => api.sockets.delete(socket));
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 60_000;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(options.port ?? 0, '127.0.0.1', () => ok());
    });
    api.boundPort = (server.address() as AddressInfo).port;
    writeDiscovery(options.stateDir, { version: 1, url: api.url, port: api.port, token: api.token, pid: process.pid, startedAt: Date.now() });
    api.logger.info(`local API on ${api.url}`);
    return api;
  }

  /** Kept after close, so errors and tests can still name it. */
  private boundPort = 0;

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      checkHostAndOrigin(req, this.port);
      if (req.method === 'OPTIONS') throw new HttpError(403, 'bad_origin', 'cross-origin requests are refused');
      checkBearer(req, this.token);
      const url = new URL(req.url ?? '/', this.url);
      const candidates = this.routes.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new HttpError(404, 'not_found', `no route ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`);
      const params = route.pattern.exec(url.pathname)!.groups ?? {};
      const decoded: Params = {};
      for (const [k, v] of Object.entries(params)) decoded[k] = decodeSegment(v);
      const reply = await route.handle(req, decoded, url.searchParams, res);
      if (reply) this.send(res, reply.status, reply.body);
    } catch (error) {
      const e = toHttpError(error);
      // A full disk (507) is logged once by the engine, not once per refused request.
      if (e.status >= 500 && e.status !== 507) this.logger.error(`API ${req.method} ${req.url} failed`, error);
      this.send(res, e.status, { error: { code: e.code, message: e.message, details: e.details } }, e.status === 413);
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, close = false): void {
    if (res.headersSent) return void res.end();
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(status === 401 ? { 'www-authenticate': 'Bearer realm="orchestr8"' } : {}),
      // An oversized body is not read to the end: close rather than reuse the connection.
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(text);
  }

  private body(req: IncomingMessage): Promise<unknown> {
    return readJsonBody(req, this.options.bodyLimit ?? 1024 * 1024);
  }

  private resolvePath(p: string): string {
    return isAbsolute(p) ? p : resolve(this.options.cwd, p);
  }

  /**
   * A workflow file the API may read: inside the project, after symlinks. Anything else is refused
   * before it is opened, so no error can quote a line of a file outside it (`/etc/passwd`).
   */
  private projectFile(p: string): string {
    const file = this.resolvePath(p);
    const root = realOrSelf(this.options.cwd);
    const inside = relative(root, realOrSelf(file));
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      throw new HttpError(400, 'invalid_workflow', `workflow files must lie inside the project (${root}); ${p} does not`);
    }
    return file;
  }

  private buildRoutes(): Route[] {
    const engine = this.options.engine;
    const route = (method: string, path: string, handle: Route['handle']): Route => ({
      method,
      // `:name` segments match one path segment (task ids contain a dot, never a slash)
      pattern: new RegExp(`^${path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`),
      handle,
    });
    return [
      route('GET', '/v1/health', async () => ok({ ok: true, pid: process.pid })),
      route('POST', '/v1/tasks', async (req) => {
        const body = await this.body(req);
        const { id, cwd, ...input } = parse(launchTaskSchema, body);
        const spec = singleTaskFromInput(input, HTTP_FIELDS);
        const result = await engine.launch({ task: spec, ...(cwd ? { cwd: this.resolvePath(cwd) } : {}), ...(id ? { id } : {}) });
        return ok({ id: result.taskIds[0], runId: result.runId }, 202);
      }),
      route('GET', '/v1/tasks/:id', async (_q, p) => ok(await engine.task(p['id']!))),
      route('GET', '/v1/tasks/:id/result', async (_q, p) => {
        const result = await engine.result(p['id']!);
        if (!result) {
          const task = await engine.task(p['id']!);
          throw new HttpError(404, 'no_result', `task ${task.id} has no result (it is ${task.state})`, { state: task.state });
        }
        return ok(result);
      }),
      route('GET', '/v1/tasks/:id/log', async (_q, p) => ok({ log: await engine.log(p['id']!) })),
      route('GET', '/v1/tasks/:id/transcript', async (_q, p) => ok({ transcript: await engine.transcript(p['id']!) })),
      route('GET', '/v1/tasks/:id/usage', async (_q, p) => ok({ totals: await engine.usage(p['id']!), turns: await engine.tokenUsage(p['id']!) })),
      route('POST', '/v1/tasks/:id/cancel', async (req, p) => (await this.body(req), await engine.cancel(p['id']!), ok({ ok: true }))),
      route('POST', '/v1/tasks/:id/retry', async (req, p) => (await this.body(req), await engine.retry(p['id']!), ok({ ok: true }))),
      route('POST', '/v1/tasks/:id/continue', async (req, p) => {
        const b = parse(continueSchema, await this.body(req));
        await engine.followUp(p['id']!, b.prompt);
        return ok({ ok: true });
      }),
      route('POST', '/v1/tasks/:id/signal', async (req, p) => {
        const b = parse(signalSchema, await this.body(req));
        const payload = b.payload === undefined ? undefined : typeof b.payload === 'string' ? b.payload : JSON.stringify(b.payload);
        await engine.signal(p['id']!, payload, b.reject ? { reject: true } : undefined);
        return ok({ ok: true });
      }),
      route('POST', '/v1/tasks/:id/answer', async (req, p) => {
        const b = parse(answerSchema, await this.body(req));
        await engine.answer(p['id']!, b);
        return ok({ ok: true });
      }),
      route('POST', '/v1/workflows', async (req) => {
        const b = parse(launchWorkflowSchema, await this.body(req));
        const workflow = b.file
          ? await loadWorkflowFile(this.projectFile(b.file))
          : { ...parseWorkflow(b.yaml!, b.source ?? '<inline>'), ...(b.source ? { file: b.source } : {}) };
        const result = await engine.launch({
          workflow,
          inputs: b.inputs ?? {},
          ...(b.cwd ? { cwd: this.resolvePath(b.cwd) } : {}),
          ...(b.id ? { id: b.id } : {}),
        });
        return ok(result, 202);
      }),
      route('GET', '/v1/runs', async (_q, _p, query) => {
        const q = parse(listQuerySchema, Object.fromEntries(query));
        return ok(
          await engine.list({ ...(q.limit ? { limit: q.limit } : {}), ...(q.offset ? { offset: q.offset } : {}), ...(q.state ? { states: q.state } : {}) }),
        );
      }),
      route('DELETE', '/v1/runs', async (_q, _p, query) => {
        const q = parse(clearQuerySchema, Object.fromEntries(query));
        return ok({ removed: await engine.clearFinished(q.before) });
      }),
      route('GET', '/v1/runs/:id', async (_q, p) => ok(await engine.status(p['id']!))),
      route('GET', '/v1/runs/:id/usage', async (_q, p) => ok(await engine.usage(p['id']!))),
      route('GET', '/v1/runs/:id/gates', async (_q, p) => ok(await engine.gates(p['id']!))),
      route('POST', '/v1/runs/:id/cancel', async (req, p) => (await this.body(req), await engine.cancel(p['id']!), ok({ ok: true }))),
      route('POST', '/v1/runs/:id/retry', async (req, p) => (await this.body(req), await engine.retry(p['id']!), ok({ ok: true }))),
      route('POST', '/v1/runs/:id/pause', async (req, p) => {
        const b = parse(pauseSchema, await this.body(req));
        await engine.pause(p['id']!, b.reason);
        return ok({ ok: true });
      }),
      route('POST', '/v1/runs/:id/resume', async (req, p) => (await this.body(req), await engine.resume(p['id']!), ok({ ok: true }))),
      route('GET', '/v1/notifications', async () => ok(await engine.undeliveredNotifications())),
      route('POST', '/v1/notifications/delivered', async (req) => {
        const b = parse(markDeliveredSchema, await this.body(req));
        await engine.markDelivered(b.ids);
        return ok({ ok: true });
      }),
      route('GET', '/v1/webhooks', async (_q, _p, query) => {
        const q = parse(webhookQuerySchema, Object.fromEntries(query));
        if (!engine.webhookDeliveries) throw new HttpError(404, 'not_found', 'this engine has no webhook outbox');
        return ok(await engine.webhookDeliveries(q.state ?? 'dead'));
      }),
      route('GET', '/v1/events', async (req, _p, query, res) => {
        const runId = query.get('runId') ?? undefined;
        // The header wins: a browser's EventSource reconnects to the same URL (and its old ?after=) with a newer Last-Event-ID.
        const after = resumeSeq(req.headers['last-event-id']) ?? resumeSeq(query.get('after'));
        const read = engine.eventsAfter?.bind(engine);
        const replay = after !== undefined && read ? { after, read } : undefined;
        const stream = openEventStream(
          res,
          (l) => engine.onEvent(l),
          { ...(runId ? { runId } : {}), progress: query.get('progress') === '1' },
          undefined,
          replay,
        );
        this.streams.add(stream);
        res.on('close', () => this.streams.delete(stream));
        return undefined;
      }),
    ];
  }

  /** Stops listening, ends event streams, drops connections and removes `api.json`. */
  dispose(): void {
    void this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    removeDiscovery(this.options.stateDir, this.token);
    for (const s of this.streams) s.dispose();
    const closing = new Promise<void>((ok) => this.server.close(() => ok()));
    for (const socket of this.sockets) socket.destroy();
    await closing;
  }
}

/** A path segment's percent-encoding; a malformed one (`%E0%A4%A`) is the client's mistake, not a crash. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'invalid_request', `malformed percent-encoding in the path: ${segment}`);
  }
}

/** The real path of a file or, when it does not exist, the path itself (the read then fails with "no such file"). */
function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** A Last-Event-ID or `after`: the journal seq of the last event a client saw. */
function resumeSeq(value: string | string[] | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0]! : value;
  if (!/^\d{1,15}$/.test(text.trim()))
    throw new HttpError(400, 'invalid_request', `Last-Event-ID / after must be an event seq (a whole number), not ${JSON.stringify(text)}`);
  return Number(text);
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new HttpError(
      400,
      'invalid_request',
      z.prettifyError(r.error),
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  return r.data;
}
