import type { InputReply } from '../../core/model/input-request.ts';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { TranscriptEntry } from '../../core/agents/transcript.ts';
import type { EngineApi, LaunchRequest, LaunchResult, ListOptions, RunPage, RunStatus, SignalOptions, UsageTotals } from '../../core/engine/engine-api.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import type { NotificationRecord, QualityGateRecord, TaskRecord, TaskResult, TokenUsageRecord, WebhookDeliveryRecord } from '../../core/model/records.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { Emitter } from '../../core/util/emitter.ts';
import { isTaskId, type TaskId } from '../../core/util/ids.ts';
import { readDiscovery, type ApiDiscovery } from './api-discovery.ts';
import { errorFromResponse } from './error-status.ts';

/** Reconnecting to the event stream: first after this, doubling up to the max while the owner does not answer. */
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;

/** An error answer of the local API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The engine API of another process (the one that owns the state, e.g. VS Code), over its
 * local HTTP API. Lets the CLI read and command runs while it cannot open the store itself.
 */
export class ApiClient implements EngineApi, Disposable {
  private readonly streams = new Set<AbortController>();

  constructor(private readonly endpoint: Pick<ApiDiscovery, 'url' | 'token'>) {}

  /**
   * Connects to the owner of `stateDir` through its discovery file, or resolves undefined
   * when no live owner publishes an API (or it does not answer with our token).
   */
  static async connect(stateDir: string, timeoutMs = 2000): Promise<ApiClient | undefined> {
    const info = readDiscovery(stateDir);
    if (!info) return undefined;
    const client = new ApiClient(info);
    try {
      await client.call('GET', '/v1/health', undefined, timeoutMs);
      return client;
    } catch {
      return undefined;
    }
  }

  get url(): string {
    return this.endpoint.url;
  }

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    const response = await exchange(`${this.endpoint.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.endpoint.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      timeoutMs,
    });
    const text = response.text;
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.status < 200 || response.status > 299) {
      const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      const message = err?.message ?? `HTTP ${response.status}`;
      throw errorFromResponse(response.status, err?.code, message, err?.details) ?? new ApiError(response.status, err?.code ?? 'http_error', message);
    }
    return json as T;
  }

  /**
   * A workflow travels as the text of the file it was parsed from (the owner parses it again;
   * one with no file is refused), a single task as its spec.
   */
  async launch(request: LaunchRequest): Promise<LaunchResult> {
    if ('task' in request) {
      const { action, ...rest } = request.task;
      if (action.kind !== 'agent' && action.kind !== 'run') throw new Error(`the local API launches agent and run tasks, not ${action.kind}`);
      const spec =
        action.kind === 'agent'
          ? { agent: action.agent, prompt: action.prompt, ...(action.model ? { model: action.model } : {}) }
          : { run: action.run, ...(action.env ? { env: action.env } : {}) };
      const r = await this.call<{ id: TaskId; runId: string }>('POST', '/v1/tasks', {
        ...spec,
        ...rest,
        ...(request.cwd ? { cwd: request.cwd } : {}),
        ...(request.id ? { id: request.id } : {}),
      });
      return { runId: r.runId, taskIds: [r.id] };
    }
    if (!request.workflow.file) throw new Error('the local API launches workflows from a file or YAML text; this one has neither');
    // The text travels, not the path: the owner reads files only inside its project, and this one may lie anywhere we can read.
    const yaml = await readFile(request.workflow.file, 'utf8');
    return this.call('POST', '/v1/workflows', {
      yaml,
      source: request.workflow.file,
      inputs: request.inputs ?? {},
      ...(request.cwd ? { cwd: request.cwd } : {}),
      ...(request.id ? { id: request.id } : {}),
    });
  }

  status(runId: string): Promise<RunStatus> {
    return this.call('GET', `/v1/runs/${encodeURIComponent(runId)}`);
  }

  task(taskId: string): Promise<TaskRecord> {
    return this.call('GET', `/v1/tasks/${encodeURIComponent(taskId)}`);
  }

  async result(taskId: string): Promise<TaskResult | undefined> {
    try {
      return await this.call<TaskResult>('GET', `/v1/tasks/${encodeURIComponent(taskId)}/result`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'no_result') return undefined;
      throw error;
    }
  }

  async cancel(id: string): Promise<void> {
    await this.call('POST', `/v1/${isTaskId(id) ? 'tasks' : 'runs'}/${encodeURIComponent(id)}/cancel`);
  }

  async retry(id: string): Promise<void> {
    await this.call('POST', `/v1/${isTaskId(id) ? 'tasks' : 'runs'}/${encodeURIComponent(id)}/retry`);
  }

  async followUp(taskId: string, prompt: string): Promise<void> {
    await this.call('POST', `/v1/tasks/${encodeURIComponent(taskId)}/continue`, { prompt });
  }

  async signal(taskId: string, payload?: string, options?: SignalOptions): Promise<void> {
    await this.call('POST', `/v1/tasks/${encodeURIComponent(taskId)}/signal`, {
      ...(payload === undefined ? {} : { payload }),
      ...(options?.reject ? { reject: true } : {}),
    });
  }

  async answer(taskId: string, reply: InputReply): Promise<void> {
    await this.call('POST', `/v1/tasks/${encodeURIComponent(taskId)}/answer`, reply);
  }

  async pause(runId: string, reason?: string): Promise<void> {
    await this.call('POST', `/v1/runs/${encodeURIComponent(runId)}/pause`, reason === undefined ? {} : { reason });
  }

  async resume(runId: string): Promise<void> {
    await this.call('POST', `/v1/runs/${encodeURIComponent(runId)}/resume`);
  }

  list(options: ListOptions = {}): Promise<RunPage> {
    const q = new URLSearchParams();
    if (options.limit) q.set('limit', String(options.limit));
    if (options.offset) q.set('offset', String(options.offset));
    if (options.states?.length) q.set('state', options.states.join(','));
    return this.call('GET', `/v1/runs${q.size ? `?${q}` : ''}`);
  }

  async usage(id: string): Promise<UsageTotals> {
    if (isTaskId(id)) return (await this.call<{ totals: UsageTotals }>('GET', `/v1/tasks/${encodeURIComponent(id)}/usage`)).totals;
    return this.call('GET', `/v1/runs/${encodeURIComponent(id)}/usage`);
  }

  gates(runId: string): Promise<QualityGateRecord[]> {
    return this.call('GET', `/v1/runs/${encodeURIComponent(runId)}/gates`);
  }

  async tokenUsage(taskId: string): Promise<TokenUsageRecord[]> {
    return (await this.call<{ turns: TokenUsageRecord[] }>('GET', `/v1/tasks/${encodeURIComponent(taskId)}/usage`)).turns;
  }

  async log(taskId: string): Promise<string> {
    return (await this.call<{ log: string }>('GET', `/v1/tasks/${encodeURIComponent(taskId)}/log`)).log;
  }

  async transcript(taskId: string): Promise<TranscriptEntry[]> {
    return (await this.call<{ transcript: TranscriptEntry[] }>('GET', `/v1/tasks/${encodeURIComponent(taskId)}/transcript`)).transcript;
  }

  undeliveredNotifications(): Promise<NotificationRecord[]> {
    return this.call('GET', '/v1/notifications');
  }

  async markDelivered(ids: string[]): Promise<void> {
    await this.call('POST', '/v1/notifications/delivered', { ids });
  }

  async clearFinished(before?: number): Promise<number> {
    return (await this.call<{ removed: number }>('DELETE', `/v1/runs${before ? `?before=${before}` : ''}`)).removed;
  }

  webhookDeliveries(state: WebhookDeliveryRecord['state'] = 'dead'): Promise<WebhookDeliveryRecord[]> {
    return this.call('GET', `/v1/webhooks?state=${state}`);
  }

  /** Follows the server-sent event stream until disposed, resuming after a disconnect (see `followEvents`). */
  onEvent(listener: (event: EngineEvent) => void): Disposable {
    return this.followEvents(listener);
  }

  /**
   * Like `onEvent`, and `connected` settles once the owner is streaming to us (it subscribes
   * before it answers), or once the first connection failed: a command sent after it resolves
   * has its events heard. When the stream drops, it reconnects with the seq of the last event
   * heard as Last-Event-ID, and the owner replays what was missed meanwhile (rebuilt from its
   * rows, flagged `replayed`) before going on live. `after` starts from a cursor kept earlier.
   */
  followEvents(
    listener: (event: EngineEvent) => void,
    options: { after?: number } = {},
  ): Disposable & { connected: Promise<void>; readonly lastSeq: number | undefined } {
    const emitter = new Emitter<EngineEvent>();
    const sub = emitter.event(listener);
    const controller = new AbortController();
    this.streams.add(controller);
    let opened!: () => void;
    const connected = new Promise<void>((resolve) => (opened = resolve));
    const cursor = { seq: options.after };
    void this.followAlways(controller.signal, emitter, cursor, opened).finally(opened);
    return {
      connected,
      get lastSeq() {
        return cursor.seq;
      },
      dispose: () => {
        sub.dispose();
        controller.abort();
        this.streams.delete(controller);
      },
    };
  }

  /** Reconnects (backing off up to 5 s while the owner does not answer) until disposed, or until the owner refuses us. */
  private async followAlways(signal: AbortSignal, emitter: Emitter<EngineEvent>, cursor: { seq: number | undefined }, opened: () => void): Promise<void> {
    for (let delay = RECONNECT_MIN_MS; !signal.aborted; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
      try {
        if (await this.follow(signal, emitter, cursor, opened)) delay = RECONNECT_MIN_MS / 2; // it streamed: come back quickly
      } catch (error) {
        if (error instanceof ApiError) return; // refused (a wrong token, no such route): asking again will not help
      }
      opened(); // the first attempt is over either way
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }

  /** One connection; resolves true once it streamed and ended. */
  private async follow(signal: AbortSignal, emitter: Emitter<EngineEvent>, cursor: { seq: number | undefined }, opened: () => void): Promise<boolean> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.endpoint.token}` };
    if (cursor.seq !== undefined) headers['last-event-id'] = String(cursor.seq);
    const response = await fetch(`${this.endpoint.url}/v1/events?progress=1`, { headers, signal });
    if (!response.ok || !response.body) throw new ApiError(response.status, 'http_error', `event stream refused: HTTP ${response.status}`);
    opened();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (!data) continue;
        const event = JSON.parse(data) as EngineEvent;
        if (event.seq !== undefined) cursor.seq = event.seq;
        emitter.fire(event);
      }
    }
    return true;
  }

  dispose(): void {
    for (const c of this.streams) c.abort();
    this.streams.clear();
  }
}

/**
 * One request and its whole answer over node:http. Not `fetch`: its first use loads undici,
 * tens of milliseconds of every CLI command that talks to the owner (`launch` must answer in a
 * few times a bare `node` start). Connection errors reject with their own code (ECONNREFUSED).
 */
function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method, headers: init.headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => request.destroy(new Error(`${init.method} ${url} timed out after ${init.timeoutMs} ms`)), init.timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(init.body);
  });
}
