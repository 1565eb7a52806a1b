import { transcriptOf, type TranscriptEntry } from '../agents/transcript.ts';
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
import type { IndexQueries } from '../store/index-worker/protocol.ts';
import { isTaskId, runIdOf, splitTaskId, taskId } from '../util/ids.ts';
import type { ListOptions, RunPage, RunStatus, UsageTotals } from './engine-api.ts';
import { NotFoundError } from './errors.ts';
import type { TaskLogs } from './task-logs.ts';

/** How many runs an ambiguous id prefix lists (all of them, up to this). */
const AMBIGUOUS_LISTED = 20;

/**
 * What the owning engine itself reads back from the durable state (runs it does not hold
 * in memory, results for interpolation, the outbox). Kept to this one small interface so
 * the store under it can change without touching the engine's parts. Every read is answered
 * by the index (in its worker thread, or the in-memory twin) and sees every commit
 * acknowledged before it was asked.
 */
export interface EngineReads {
  getRun(id: string): Promise<RunRecord | undefined>;
  getTasks(runId: string): Promise<TaskRecord[]>;
  runsInState(state: RunState): Promise<RunRecord[]>;
  finishedRunIds(before: number): Promise<string[]>;
  getNotification(id: string): Promise<NotificationRecord | undefined>;
  checkpoint(taskId: string): Promise<CheckpointRecord | undefined>;
  getResult(taskId: string): Promise<TaskResult | undefined>;
  /** The outbox queries of the webhook dispatcher. */
  outbox: Omit<WebhookOutboxStore, 'save'>;
}

/**
 * The read half of the engine API over the durable state, asked of the index (see
 * StateIndex): no SQL runs in this thread. Held by the owning engine and by read-only
 * openers, so both answer the same way.
 */
export class StateQueries {
  /** The engine's own reads (see EngineReads). */
  readonly reads: EngineReads;

  constructor(
    private readonly index: IndexQueries,
    private readonly logs: TaskLogs,
  ) {
    const db = index;
    this.reads = {
      getRun: (id) => db.getRun(id),
      getTasks: (runId) => db.getTasks(runId),
      runsInState: (state) => db.runsInState(state),
      finishedRunIds: (before) => db.finishedRunIds(before),
      getNotification: (id) => db.getNotification(id),
      checkpoint: (taskId) => db.checkpoint(taskId),
      getResult: (taskId) => db.getResult(taskId),
      outbox: {
        get: (id) => db.getWebhookDelivery(id),
        due: (now, limit) => db.dueWebhookDeliveries(now, limit),
        nextAttemptAt: () => db.nextWebhookAttempt(),
        cursor: () => db.cursor('webhooks'),
        lastEventSeq: () => db.lastEventSeq(),
      },
    };
  }

  /** Resolves a run id, a unique prefix of one, or a task id to a full run id. */
  async resolveRunId(id: string): Promise<string> {
    const runPart = runIdOf(id);
    if (await this.index.getRun(runPart)) return runPart;
    const matches = await this.index.runIdsByPrefix(runPart, AMBIGUOUS_LISTED + 1);
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new NotFoundError(`no run ${runPart}`);
    const more = matches.length > AMBIGUOUS_LISTED ? ' and more' : '';
    throw new NotFoundError(`run id ${runPart} is ambiguous: it begins ${matches.slice(0, AMBIGUOUS_LISTED).join(', ')}${more}; give more of it`);
  }

  /** Resolves a task id whose run part may be a prefix. */
  async resolveTaskId(id: string): Promise<string> {
    const parts = splitTaskId(id);
    if (!parts) throw new NotFoundError(`${id} is not a task id (expected <run>.<task>)`);
    const full = taskId(await this.resolveRunId(parts.runId), parts.key);
    if (!(await this.index.getTask(full))) throw new NotFoundError(`no task ${id}`);
    return full;
  }

  async status(runId: string): Promise<RunStatus> {
    const id = await this.resolveRunId(runId);
    const [run, tasks] = await Promise.all([this.index.getRun(id), this.index.getTasks(id)]);
    return { run: run!, tasks };
  }

  async task(taskId: string): Promise<TaskRecord> {
    return (await this.index.getTask(await this.resolveTaskId(taskId)))!;
  }

  async result(taskId: string): Promise<TaskResult | undefined> {
    return this.index.getResult(await this.resolveTaskId(taskId));
  }

  async list(options: ListOptions = {}): Promise<RunPage> {
    return this.index.listRuns(options.limit ?? 50, options.offset ?? 0, options.states);
  }

  async usage(id: string): Promise<UsageTotals> {
    return isTaskId(id) ? this.index.usage({ taskId: await this.resolveTaskId(id) }) : this.index.usage({ runId: await this.resolveRunId(id) });
  }

  async gates(runId: string): Promise<QualityGateRecord[]> {
    return this.index.gates(await this.resolveRunId(runId));
  }

  async tokenUsage(taskId: string): Promise<TokenUsageRecord[]> {
    return this.index.tokenUsage(await this.resolveTaskId(taskId));
  }

  async transcript(taskId: string): Promise<TranscriptEntry[]> {
    return transcriptOf((await this.index.checkpoint(await this.resolveTaskId(taskId)))?.state);
  }

  async log(taskId: string): Promise<string> {
    const { runId, key } = splitTaskId(await this.resolveTaskId(taskId))!;
    return this.logs.read(runId, key);
  }

  async undeliveredNotifications(): Promise<NotificationRecord[]> {
    return this.index.undeliveredNotifications();
  }

  /** Durable events after `seq`, oldest first, rebuilt from the rows by the index (see `replayEvents`); `next` is where the following page starts. */
  async eventsAfter(seq: number, limit?: number): Promise<{ events: EngineEvent[]; next: number }> {
    return this.index.replayEvents(seq, limit);
  }

  /** Webhook outbox rows in a state; `dead` ones are the dead letters the user should see. */
  async webhookDeliveries(state: WebhookDeliveryRecord['state'] = 'dead', limit = 100): Promise<WebhookDeliveryRecord[]> {
    return this.index.webhookDeliveries(state, limit);
  }
}
