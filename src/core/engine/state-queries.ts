import type { EngineEvent } from '../model/events.ts';
import type { NotificationRecord, QualityGateRecord, TaskRecord, TaskResult, TokenUsageRecord, WebhookDeliveryRecord } from '../model/records.ts';
import type { StateDb } from '../store/state-db.ts';
import type { Disposable } from '../util/disposable.ts';
import { splitTaskId } from '../util/ids.ts';
import type { EngineApi, ListOptions, RunPage, RunStatus, UsageTotals } from './engine-api.ts';
import { replayEvents } from './event-replay.ts';
import type { TaskLogs } from './task-logs.ts';

/** An id that names nothing, or more than one run. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * The read half of the engine API over the durable state. Shared by the owning
 * engine and by read-only openers, so both answer the same way.
 */
export abstract class StateQueries implements EngineApi {
  protected abstract readonly db: StateDb;
  protected abstract readonly logs: TaskLogs;

  abstract launch: EngineApi['launch'];
  abstract cancel: EngineApi['cancel'];
  abstract retry: EngineApi['retry'];
  abstract signal: EngineApi['signal'];
  abstract markDelivered: EngineApi['markDelivered'];
  abstract clearFinished: EngineApi['clearFinished'];
  abstract onEvent(listener: (event: EngineEvent) => void): Disposable;

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
