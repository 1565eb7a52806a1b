import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { EngineEvent } from '../model/events.ts';
import type { RunRecord, TaskRecord, WebhookDeliveryRecord } from '../model/records.ts';
import { realClock, type Clock } from '../util/clock.ts';
import { WEBHOOK_EVENTS, type WebhookEndpoint, type WebhookEventType, workflowEndpoints } from './webhook-endpoints.ts';
import { crashPoint } from '../util/crash-points.ts';
import type { Disposable } from '../util/disposable.ts';
import { errorMessage, silentLogger, type Logger } from '../util/logger.ts';
import type { WebhookOutboxStore } from './webhook-outbox.ts';
import { resultPayload, runPayload, taskPayload } from './webhook-payloads.ts';
import { attemptDelivery, type WebhookSendOptions } from './webhook-sender.ts';

/** A pull request that a run opened, as `pr.opened` reports it. */
export interface OpenedPullRequest {
  url: string;
  number: number;
  draft: boolean;
}

/** Signing and retrying (see webhook-sender.ts); `env` defaults to process.env. */
type SendSettings = Pick<WebhookSendOptions, 'secret' | 'maxAttempts' | 'backoffMs' | 'maxDelayMs' | 'timeoutMs'> & Partial<Pick<WebhookSendOptions, 'env'>>;

export interface WebhookDispatcherOptions extends SendSettings {
  outbox: WebhookOutboxStore;
  /**
   * The engine's durable events, for `start()` to queue those after the outbox's cursor: made
   * durable by a previous process that died before queueing them, or fired while the engine
   * opened, before anyone listened. Without it, only what is in the outbox is sent.
   */
  history?: { eventsAfter(seq: number): Promise<{ events: EngineEvent[]; next: number }> };
  /** Reads a run (for per-workflow endpoints of task events, which carry only the task). */
  runOf: (runId: string) => Promise<RunRecord | undefined>;
  endpoints?: WebhookEndpoint[];
  /** How long `close()` keeps sending what is due before it leaves the rest pending for the next owner (default 5 s). */
  closeGraceMs?: number;
  clock?: Clock;
  logger?: Logger;
}

const BATCH = 20;
const CLOSE_GRACE_MS = 5000;

/**
 * Retry timers must not keep a finished CLI process alive for minutes: what is still
 * pending stays in the outbox for the next process (or the extension) to send.
 */
const unrefClock = realClock({ keepAlive: false });

/** Stable id of one event occurrence: the same transition heard twice yields the same id. */
export function webhookEventId(type: string, ...parts: Array<string | number | undefined>): string {
  return `evt_${createHash('sha256')
    .update([type, ...parts].join('|'))
    .digest('hex')
    .slice(0, 24)}`;
}

function deliveryId(eventId: string, url: string): string {
  return createHash('sha256').update(`${eventId}|${url}`).digest('hex').slice(0, 32);
}

/**
 * Turns engine events into signed webhook deliveries: each event is first written to the
 * durable outbox (one row per endpoint), then sent, retried with exponential backoff,
 * marked delivered, or dead-lettered after `maxAttempts`. Delivery is at least once;
 * receivers deduplicate on the event id (body `id`, header X-Orchestr8-Event-Id).
 */
export class WebhookDispatcher implements Disposable {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly send: WebhookSendOptions;
  /** A batch holds up to 20 due deliveries: at most 4 requests in flight, so one slow receiver does not hold them all. */
  private readonly limit = pLimit(4);
  private timer: { cancel(): void } | undefined;
  private timerAt = Infinity;
  /** Enqueues in arrival order, so a flush sees every event heard before it. */
  private enqueued: Promise<void> = Promise.resolve();
  private running: Promise<void> | undefined;
  private rerun = false;
  private closed = false;
  /** The durable cursor as last saved (or read at start). */
  private savedCursor: number | undefined;
  /** The seq of the last engine event turned into deliveries (in order: every event below it is done). */
  private cursor = 0;
  /** The lowest seq of the events heard since start: a dispatcher without a cursor sends from there. */
  private firstHeard: number | undefined;
  /** The newest seq of events heard that no webhook is made of: the cursor may move there once those before are done. */
  private heard = 0;
  /** Events heard before `start()`: turned after the catch-up, which may cover them. */
  private early: EngineEvent[] | undefined = [];
  private lastPassFailed = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.clock = options.clock ?? unrefClock;
    this.logger = options.logger ?? silentLogger;
    const { secret, maxAttempts, backoffMs, maxDelayMs, timeoutMs } = options;
    this.send = { secret, maxAttempts, backoffMs, maxDelayMs, timeoutMs, env: options.env ?? process.env, now: () => this.clock.now(), logger: this.logger };
  }

  /** Listens to an engine; events heard wait for `start()`, which first queues what was missed and sends what an earlier process left in the outbox. */
  listen(source: { onEvent(listener: (event: EngineEvent) => void): Disposable }): Disposable {
    return source.onEvent((event) => this.handle(event));
  }

  /** Queues the events after the outbox's cursor, then sends whatever is due (left over, or retried). */
  start(): void {
    const early = this.early ?? [];
    this.early = undefined;
    this.chain(() => this.catchUp());
    for (const event of early) this.handle(event);
  }

  /**
   * Turns the durable events after the cursor into deliveries: those a previous owner made
   * durable but did not queue (it died in between), and those fired while this engine opened.
   * Event ids derive from the event's seq, so an event queued before is recognised and skipped.
   * Without a cursor (webhooks just configured) it starts at the newest event: nothing old is sent.
   */
  private async catchUp(): Promise<void> {
    const outbox = this.options.outbox;
    this.savedCursor = await outbox.cursor();
    if (this.savedCursor === undefined) {
      // The index may answer after events heard since start (an owner's index loads its history
      // behind, and answers with all it holds by then): those are new, and still sent.
      const newest = await outbox.lastEventSeq();
      this.cursor = this.firstHeard === undefined ? newest : Math.min(newest, this.firstHeard - 1);
      await this.saveCursor();
      return;
    }
    this.cursor = Math.max(this.cursor, this.savedCursor);
    const history = this.options.history;
    if (!history) return;
    for (let from = this.savedCursor; ; ) {
      const page = await history.eventsAfter(from);
      for (const event of page.events) await this.turn(event);
      if (page.next <= from) break;
      from = page.next;
      this.cursor = Math.max(this.cursor, from);
    }
    await this.saveCursor();
  }

  /** Hears one engine event; those that are webhook events go to the outbox, after anything heard before. */
  handle(event: EngineEvent): void {
    if (this.early) {
      this.early.push(event);
      return;
    }
    if (event.seq !== undefined) this.firstHeard = Math.min(this.firstHeard ?? event.seq, event.seq);
    if (WEBHOOK_EVENTS.includes(event.type as WebhookEventType)) this.chain(() => this.turn(event));
    else if (event.seq !== undefined) this.heard = Math.max(this.heard, event.seq);
  }

  /** One event into its deliveries, with the cursor moved past it in the same commit; an event at or below the cursor is done already. */
  private async turn(event: EngineEvent): Promise<void> {
    const seq = event.seq;
    if (seq !== undefined && seq <= this.cursor) return;
    const id = (...parts: Array<string | number | undefined>) => webhookEventId(event.type, ...(seq !== undefined ? [seq] : []), ...parts);
    switch (event.type) {
      case 'task.completed':
        await this.writeTask(
          event.type,
          event.task,
          id(event.task.id, event.task.attempt, event.task.finishedAt),
          { result: resultPayload(event.result) },
          seq,
        );
        break;
      case 'task.failed':
        await this.writeTask(event.type, event.task, id(event.task.id, event.task.attempt, event.task.finishedAt), { error: event.error }, seq);
        break;
      case 'workflow.completed':
      case 'workflow.failed':
        await this.write(event.type, event.run, event.run.id, id(event.run.id, event.run.finishedAt), { run: runPayload(event.run) }, seq);
        break;
      // Someone has to act: a task asks (a permission, its budget), or a run paused (its quota).
      case 'task.needs-input':
        await this.writeTask(event.type, event.task, id(event.task.id, event.task.request?.id), { request: event.task.request }, seq);
        break;
      case 'workflow.paused':
        await this.write(
          event.type,
          event.run,
          event.run.id,
          id(event.run.id, event.run.pause?.since),
          { run: runPayload(event.run), pause: event.run.pause },
          seq,
        );
        break;
    }
    if (seq !== undefined) this.cursor = Math.max(this.cursor, seq);
  }

  /** Saves the cursor when it moved past the durable one without deliveries (events no endpoint wants). */
  private async saveCursor(): Promise<void> {
    if (this.cursor === this.savedCursor) return;
    await this.options.outbox.save([], this.cursor);
    this.savedCursor = this.cursor;
  }

  /** `pr.opened`; called by the git hooks (idempotent: the same pull request is one event). */
  pullRequestOpened(run: RunRecord, pr: OpenedPullRequest): void {
    this.enqueue('pr.opened', run, webhookEventId('pr.opened', run.id, pr.number), {
      run: runPayload(run),
      pullRequest: { url: pr.url, number: pr.number, draft: pr.draft },
    });
  }

  private async writeTask(type: WebhookEventType, task: TaskRecord, eventId: string, extra: Record<string, unknown>, seq: number | undefined): Promise<void> {
    const run = await this.options.runOf(task.runId).catch(() => undefined);
    await this.write(
      type,
      run,
      task.runId,
      eventId,
      { ...(run ? { run: runPayload(run) } : { run: { id: task.runId } }), task: taskPayload(task), ...extra },
      seq,
    );
  }

  private enqueue(type: WebhookEventType, run: RunRecord, eventId: string, payload: Record<string, unknown>): void {
    this.chain(() => this.write(type, run, run.id, eventId, payload));
  }

  private chain(fn: () => Promise<void>): void {
    this.enqueued = this.enqueued
      .then(fn)
      .catch((error) => this.logger.error('could not queue a webhook', error))
      .then(() => this.kick());
  }

  /** Writes an event's new deliveries; `seq` (its engine event) becomes the durable cursor in the same commit. */
  private async write(
    type: WebhookEventType,
    run: RunRecord | undefined,
    runId: string,
    eventId: string,
    payload: Record<string, unknown>,
    seq?: number,
  ): Promise<void> {
    if (this.closed) return;
    const endpoints = [...(this.options.endpoints ?? []), ...workflowEndpoints(run)].filter((e) => !e.events || e.events.includes(type));
    if (endpoints.length === 0) return;
    crashPoint('webhook.queueing');
    const now = this.clock.now();
    const body = JSON.stringify({ id: eventId, type, timestamp: new Date(now).toISOString(), ...payload });
    const fresh: WebhookDeliveryRecord[] = [];
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      const id = deliveryId(eventId, endpoint.url);
      if (seen.has(id) || (await this.options.outbox.get(id))) continue; // the same event heard again, or listed twice
      seen.add(id);
      fresh.push({
        id,
        eventId,
        event: type,
        runId,
        url: endpoint.url,
        secretRef: endpoint.secretRef ?? 'global',
        body,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      });
    }
    await this.options.outbox.save(fresh, seq);
    if (seq !== undefined) this.savedCursor = Math.max(this.savedCursor ?? 0, seq);
  }

  /** Resolves once every event heard so far is in the outbox and everything due has been tried. */
  async flush(): Promise<void> {
    await this.enqueued;
    this.kick();
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    let failed = false;
    this.lastPassFailed = false;
    this.running = this.deliverDue()
      .catch((error) => {
        // The store refused (closing, or broken): try again later rather than spin.
        failed = true;
        this.lastPassFailed = true;
        this.logger.error('webhook delivery loop failed', error);
      })
      .finally(() => {
        this.running = undefined;
        if (this.rerun && !failed) {
          this.rerun = false;
          this.kick();
        } else void this.arm(failed ? this.clock.now() + 5000 : undefined);
      });
  }

  /** Wakes up when the next pending delivery is due (or at `at`). */
  private async arm(at?: number): Promise<void> {
    if (this.closed) return;
    let next = at;
    try {
      next ??= await this.options.outbox.nextAttemptAt();
    } catch (error) {
      this.logger.error('webhook outbox unreadable', error);
      return;
    }
    // Closed, or a pass started, while the outbox answered: that pass arms the timer when it ends.
    if (next === undefined || this.closed || this.running) return;
    if (this.timer && next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.kick();
      },
      Math.max(0, next - this.clock.now()),
    );
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const due = await this.options.outbox.due(this.clock.now(), BATCH);
      if (due.length === 0) return;
      const updated = await Promise.all(due.map((d) => this.limit(() => attemptDelivery(d, this.send))));
      await this.options.outbox.save(updated);
      if (due.length < BATCH) return;
    }
  }

  /**
   * Stops, but first sends what is due, for up to `closeGraceMs`: the last word of a run (its
   * `workflow.completed`) is heard just before a CLI owner exits, and nobody else may open the
   * store after it. What is still pending then (a receiver down, a slow one) stays durably in
   * the outbox for the next owner, and the cursor is saved. Waits for attempts in flight.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.enqueued;
    let grace: { cancel(): void } | undefined;
    const expired = new Promise<void>((resolve) => (grace = unrefClock.setTimeout(resolve, this.options.closeGraceMs ?? CLOSE_GRACE_MS)));
    await Promise.race([this.drain().catch((error) => this.logger.error('webhooks not sent before closing (they stay pending)', error)), expired]);
    grace?.cancel();
    this.closed = true;
    this.timer?.cancel();
    while (this.running) await this.running;
    // Everything heard is queued now: events no webhook is made of need no second look.
    this.cursor = Math.max(this.cursor, this.heard);
    await this.saveCursor().catch((error) => this.logger.warn(`webhook cursor not saved (the next owner looks at these events again): ${errorMessage(error)}`));
  }

  /** Attempts everything due now, until nothing is (a failed attempt is due again only later). */
  private async drain(): Promise<void> {
    for (;;) {
      this.kick();
      while (this.running) await this.running;
      if (this.closed || this.lastPassFailed || (await this.options.outbox.due(this.clock.now(), 1)).length === 0) return;
    }
  }

  dispose(): void {
    this.closed = true;
    this.timer?.cancel();
  }
}
