import type { EngineEvent } from '../model/events.ts';
import type {
  CheckpointRecord,
  NotificationRecord,
  QualityGateRecord,
  RunRecord,
  TaskRecord,
  TaskResult,
  TokenUsageRecord,
  WebhookDeliveryRecord,
} from '../model/records.ts';
import type { RunState } from '../model/task-state.ts';
import type { WebhookOutboxStore } from '../notifications/webhook-outbox.ts';
import type { StateDb } from '../store/state-db.ts';
import { splitTaskId } from '../util/ids.ts';
import type { ListOptions, RunPage, RunStatus, UsageTotals } from './engine-api.ts';
import { NotFoundError } from './errors.ts';
import { replayEvents } from './event-replay.ts';
import type { TaskLogs } from './task-logs.ts';

/** A value now, or later once reads leave this thread: callers on async paths `await` it either way. */
export type Awaitable<T> = T | Promise<T>;

/**
 * What the owning engine itself reads back from the durable state (runs it does not hold
 * in memory, results for interpolation, the outbox). Kept to this one small interface so
 * the store under it can change without touching the engine's parts.
 */
export interface EngineReads {
  getRun(id: string): Awaitable<RunRecord | undefined>;
  getTasks(runId: string): Awaitable<TaskRecord[]>;
  runsInState(state: RunState): Awaitable<RunRecord[]>;
  finishedRunIds(before: number): Awaitable<string[]>;
  getNotification(id: string): Awaitable<NotificationRecord | undefined>;
  checkpoint(taskId: string): Awaitable<CheckpointRecord | undefined>;
  /** Synchronous: `${tasks.X.result}` interpolation asks for it while building an action. */
  getResult(taskId: string): TaskResult | undefined;
  /** The outbox queries of the webhook dispatcher (synchronous, as WebhookOutboxStore is). */
  outbox: Omit<WebhookOutboxStore, 'save'>;
}

/**
 * The read half of the engine API over the durable state. Held by the owning engine and by
 * read-only openers, so both answer the same way; `db` is a getter because a read-only view
 * swaps its store when it reloads.
 */
export class StateQueries {
  /** The engine's own reads (see EngineReads). */
  readonly reads: EngineReads;

  constructor(
    private readonly store: () => StateDb,
    private readonly logs: TaskLogs,
  ) {
    const db = (): StateDb => this.store();
    this.reads = {
      getRun: (id) => db().getRun(id),
      getTasks: (runId) => db().getTasks(runId),
      runsInState: (state) => db().runsInState(state),
      finishedRunIds: (before) => db().finishedRunIds(before),
      getNotification: (id) => db().getNotification(id),
      checkpoint: (taskId) => db().checkpoint(taskId),
      getResult: (taskId) => db().getResult(taskId),
      outbox: {
        get: (id) => db().getWebhookDelivery(id),
        due: (now, limit) => db().dueWebhookDeliveries(now, limit),
        nextAttemptAt: () => db().nextWebhookAttempt(),
        cursor: () => db().cursor('webhooks'),
        lastEventSeq: () => db().lastEventSeq(),
      },
    };
  }

  private get db(): StateDb {
    return this.store();
  }

  /** Resolves a run id, a unique prefix of one, or a task id to a full run id. */
  resolveRunId(id: string): string {
    const runPart = splitTaskId(id)?.runId ?? id;
    if (this.db.getRun(runPart)) return runPart;
    const matches = this.db.runIdsByPrefix(runPart);
    if (matches.length === 1) return matches[0]!;
    throw new NotFoundError(matches.length ? `run id ${runPart} is ambiguous: ${matches.join(', ')}…` : `no run ${runPart}`);
  }

  /** Resolves a task id whose run part may be a prefix. */
  resolveTaskId(id: string): string {
    const parts = splitTaskId(id);
    if (!parts) throw new NotFoundError(`${id} is not a task id (expected <run>.<task>)`);
    const full = `${this.resolveRunId(parts.runId)}.${parts.key}`;
    if (!this.db.getTask(full)) throw new NotFoundError(`no task ${id}`);
    return full;
  }

  async status(runId: string): Promise<RunStatus> {
    const id = this.resolveRunId(runId);
    return { run: this.db.getRun(id)!, tasks: this.db.getTasks(id) };
  }

  async task(taskId: string): Promise<TaskRecord> {
    return this.db.getTask(this.resolveTaskId(taskId))!;
  }

  async result(taskId: string): Promise<TaskResult | undefined> {
    return this.db.getResult(this.resolveTaskId(taskId));
  }

  async list(options: ListOptions = {}): Promise<RunPage> {
    return this.db.listRuns(options.limit ?? 50, options.offset ?? 0, options.states);
  }

  async usage(id: string): Promise<UsageTotals> {
    return splitTaskId(id) ? this.db.usage({ taskId: this.resolveTaskId(id) }) : this.db.usage({ runId: this.resolveRunId(id) });
  }

  async gates(runId: string): Promise<QualityGateRecord[]> {
    return this.db.gates(this.resolveRunId(runId));
  }

  async tokenUsage(taskId: string): Promise<TokenUsageRecord[]> {
    return this.db.tokenUsage(this.resolveTaskId(taskId));
  }

  async log(taskId: string): Promise<string> {
    const { runId, key } = splitTaskId(this.resolveTaskId(taskId))!;
    return this.logs.read(runId, key);
  }

  async undeliveredNotifications(): Promise<NotificationRecord[]> {
    return this.db.undeliveredNotifications();
  }

  /** Durable events after `seq`, oldest first, rebuilt from the rows (see `replayEvents`); `next` is where the following page starts. */
  async eventsAfter(seq: number, limit?: number): Promise<{ events: EngineEvent[]; next: number }> {
    return replayEvents(this.db, seq, limit);
  }

  /** Webhook outbox rows in a state; `dead` ones are the dead letters the user should see. */
  async webhookDeliveries(state: WebhookDeliveryRecord['state'] = 'dead', limit = 100): Promise<WebhookDeliveryRecord[]> {
    return this.db.webhookDeliveries(state, limit);
  }
}
