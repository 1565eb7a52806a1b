import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { TaskExecutor } from '../runners/task-executor.ts';
import type { TaskContext, TaskOutput } from '../runners/task-runner.ts';
import { NeedsInput, PauseRun, TaskError, abortReason } from '../runners/task-runner.ts';
import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { bullConnection, redactRedisUrl } from './redis-url.ts';
import type { RunSource } from '../model/run-delivery.ts';
import type { CancelMessage, TaskJobData, TaskJobProgress, TaskJobRecord, TaskJobResult, TaskJobStop } from './task-job.ts';
import { DEFAULT_QUEUE, TASK_JOB_NAME, TASK_JOB_VERSION, queueKeys, taskJobId } from './task-job.ts';

export interface BullmqExecutorOptions {
  redisUrl: string;
  queue?: string;
  /** BullMQ key prefix (default `bull`). */
  prefix?: string;
  /**
   * Tasks handed to Redis and not yet finished; the engine keeps the rest in its own
   * priority queue. Workers' concurrency is the real limit: keep this above their sum
   * so no worker waits for the coordinator's round trip (default 1000).
   */
  maxInFlight?: number;
  /** How long finished jobs stay in Redis, so a restarted coordinator can still collect their outcome (default 7 days). */
  keepFinishedSeconds?: number;
  /** How often jobs still awaited are checked directly, in case an event was missed (default 5 s). */
  reconcileMs?: number;
  logger?: Logger;
  clock?: Clock;
}

interface Awaited {
  jobId: string;
  ctx: TaskContext;
  resolve(output: TaskOutput): void;
  reject(error: unknown): void;
  since: number;
  settling: boolean;
}

/**
 * Hands tasks to `orchestr8 worker` processes through a BullMQ queue. The engine
 * stays the state of record (DAG, results, notifications in its sql.js store);
 * Redis holds the queue and each job's outcome until this side has collected it.
 *
 * Attempts are the engine's: every job has `attempts: 1`, and a job whose worker
 * died comes back through BullMQ's stalled-job check, not through a new attempt.
 * Tasks outlive this process (`outlivesEngine`): on shutdown the executor lets go
 * of its jobs without cancelling them, and after a restart `execute` with the same
 * attempt re-attaches to the job by id.
 */
export class BullmqExecutor implements TaskExecutor {
  readonly outlivesEngine = true;
  readonly queueName: string;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly keys: ReturnType<typeof queueKeys>;
  private readonly awaited = new Map<string, Awaited>();
  private readonly maxInFlight: number;
  private readonly keepSeconds: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly openedAt: number;
  private readonly ready: Promise<unknown>;
  private readonly reconcileTimer: NodeJS.Timeout;
  private closed = false;
  private reconciling = false;

  constructor(private readonly options: BullmqExecutorOptions) {
    this.queueName = options.queue ?? DEFAULT_QUEUE;
    const prefix = options.prefix ?? 'bull';
    const connection = bullConnection(options.redisUrl);
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.openedAt = this.clock.now();
    this.maxInFlight = options.maxInFlight ?? 1000;
    this.keepSeconds = options.keepFinishedSeconds ?? 7 * 24 * 3600;
    this.keys = queueKeys(prefix, this.queueName);
    // The events stream must not be trimmed past jobs we still wait for; the reconcile loop covers the rest.
    // Auto-pipelining sends the adds of one engine dispatch round in one round trip, as addBulk would.
    this.queue = new Queue(this.queueName, { connection: { ...connection, enableAutoPipelining: true }, prefix, streams: { events: { maxLen: 100_000 } } });
    this.events = new QueueEvents(this.queueName, { connection, prefix });
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const onError = connectionWarnings(this.logger, options.redisUrl);
    this.queue.on('error', onError('queue'));
    this.events.on('error', onError('events'));
    this.redis.on('error', onError('client'));
    this.events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue as unknown as TaskJobResult));
    this.events.on('failed', ({ jobId, failedReason }) => this.onFailed(jobId, failedReason));
    this.events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as unknown as TaskJobProgress));
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    this.reconcileTimer = setInterval(() => void this.reconcile(), options.reconcileMs ?? 5000);
    this.reconcileTimer.unref();
  }

  /** Resolves once the queue and its event stream are connected (fails on a bad URL or password). */
  waitUntilReady(): Promise<void> {
    return this.ready.then(() => undefined);
  }

  freeSlots(): number {
    return Math.max(0, this.maxInFlight - this.awaited.size);
  }

  execute(ctx: TaskContext): Promise<TaskOutput> {
    if (this.closed) return Promise.reject(new TaskError('shutdown'));
    const jobId = taskJobId(ctx.task);
    return new Promise<TaskOutput>((resolve, reject) => {
      const entry: Awaited = { jobId, ctx, resolve, reject, since: this.clock.now(), settling: false };
      this.awaited.set(jobId, entry);
      const onAbort = () => void this.abandon(entry, abortReason(ctx.signal) ?? 'cancelled');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const done = () => ctx.signal.removeEventListener('abort', onAbort);
      entry.resolve = (output) => (done(), this.awaited.delete(jobId), resolve(output));
      entry.reject = (error) => (done(), this.awaited.delete(jobId), reject(error));
      if (ctx.signal.aborted) return onAbort();
      this.submit(entry).catch((error) => entry.reject(new TaskError(`could not queue the task in Redis: ${errorMessage(error)}`)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reconcileTimer);
    // Jobs keep running on their workers; a restarted coordinator re-attaches to them.
    for (const entry of [...this.awaited.values()]) entry.reject(new TaskError('shutdown'));
    // A clean close waits for Redis; one that never answered is cut off instead.
    const closed = Promise.allSettled([this.events.close(), this.queue.close()]);
    const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 2000).unref())]);
    // (BullMQ's disconnect waits for a first connection that may never come: bounded too.)
    if (timedOut)
      await Promise.race([Promise.allSettled([this.events.disconnect(), this.queue.disconnect()]), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.redis.disconnect();
  }

  // ---- submitting ----------------------------------------------------------

  private async submit(entry: Awaited): Promise<void> {
    await this.ready;
    const { ctx, jobId } = entry;
    // Cancelled while we waited for Redis: queue nothing (abandon already answered the engine).
    if (ctx.signal.aborted) return;
    // A task that started before this executor existed was running under a previous
    // coordinator: its job may still be running, or be finished and waiting for us.
    if ((ctx.task.startedAt ?? 0) < this.openedAt && (await this.collectFinished(entry))) return;
    const data: TaskJobData = {
      v: TASK_JOB_VERSION,
      task: ctx.task,
      run: ctx.run,
      action: ctx.action,
      cwd: ctx.cwd,
      ...sourceOf(ctx),
      ...(ctx.action.kind === 'agent' ? { checkpoint: await ctx.loadCheckpoint() } : {}),
    };
    // No BullMQ priority: the engine dispatches by priority and keeps at most maxInFlight jobs in Redis.
    // Same jobId → BullMQ keeps the existing job: adding twice never runs a task twice.
    await this.queue.add(TASK_JOB_NAME, data, {
      jobId,
      attempts: 1,
      removeOnComplete: { age: this.keepSeconds },
      removeOnFail: { age: this.keepSeconds },
    });
  }

  /** If the job is already finished, settles the entry from it and returns true. */
  private async collectFinished(entry: Awaited): Promise<boolean> {
    // State first, then the job: read the other way round, a job that completes in between
    // looks completed with no return value yet.
    const state = await this.queue.getJobState(entry.jobId);
    if (state !== 'completed' && state !== 'failed') return false;
    const job = await Job.fromId<TaskJobData, TaskJobResult>(this.queue, entry.jobId);
    if (!job) return false;
    if (state === 'completed') {
      this.logger.info(`task ${entry.ctx.task.id}: collected the result its job left while no coordinator was running`);
      void this.onCompleted(entry.jobId, job.returnvalue);
      return true;
    }
    void this.onFailed(entry.jobId, job.failedReason);
    return true;
  }

  // ---- outcomes ------------------------------------------------------------

  private async onCompleted(jobId: string, result: TaskJobResult | null | undefined): Promise<void> {
    const entry = this.awaited.get(jobId);
    if (!entry || entry.settling) return;
    entry.settling = true;
    try {
      if (!result) throw new Error('its job holds no result');
      if (result.records > 0) await this.applyRecords(entry);
      entry.resolve({
        output: result.output,
        data: result.data,
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      });
    } catch (error) {
      entry.reject(new TaskError(`the task finished on ${result?.worker ?? 'a worker'} but its records could not be read: ${errorMessage(error)}`));
    }
  }

  private async onFailed(jobId: string, failedReason: string): Promise<void> {
    const entry = this.awaited.get(jobId);
    if (!entry || entry.settling) return;
    entry.settling = true;
    let retryable = true;
    let stop: TaskJobStop | undefined;
    try {
      const failure = await this.applyRecords(entry);
      if (failure) ({ retryable, stop } = failure);
    } catch (error) {
      this.logger.warn(`task ${entry.ctx.task.id}: could not read its records: ${errorMessage(error)}`);
    }
    if (stop?.kind === 'needs-input') return entry.reject(new NeedsInput(stop.request));
    if (stop?.kind === 'pause') return entry.reject(new PauseRun(stop.message, stop.retryAfterMs, stop.why));
    entry.reject(new TaskError(failedReason || 'the worker reported no reason', retryable));
  }

  private onProgress(jobId: string, progress: TaskJobProgress): void {
    const entry = this.awaited.get(jobId);
    if (entry && progress?.k === 'log') entry.ctx.log(progress.text);
  }

  /** Moves the job's durable records (usage, gates) into the engine's store, then drops them from Redis. */
  private async applyRecords(entry: Awaited): Promise<{ retryable: boolean; stop?: TaskJobStop } | undefined> {
    const key = this.keys.records(entry.jobId);
    const raw = await this.redis.lrange(key, 0, -1);
    let failure: { retryable: boolean; stop?: TaskJobStop } | undefined;
    for (const line of raw) {
      const record = JSON.parse(line) as TaskJobRecord;
      if (record.k === 'usage') await entry.ctx.recordUsage(record.usage);
      else if (record.k === 'gate') await entry.ctx.recordGate(record.gate);
      else if (record.k === 'failure') failure = { retryable: record.retryable, ...(record.stop ? { stop: record.stop } : {}) };
    }
    if (raw.length) await this.redis.del(key);
    return failure;
  }

  // ---- cancellation --------------------------------------------------------

  /**
   * The engine aborted the attempt. On shutdown we only let go (the job goes on and
   * is re-attached later); on cancel or timeout the job is removed if it has not
   * started, and every worker is told to stop it if it has.
   */
  private async abandon(entry: Awaited, reason: string): Promise<void> {
    if (reason === 'shutdown') return entry.reject(new TaskError('shutdown'));
    entry.reject(new TaskError(reason));
    try {
      await this.ready;
      const removed = await this.queue.remove(entry.jobId).catch(() => 0);
      if (removed !== 1) {
        const message: CancelMessage = { jobId: entry.jobId, reason };
        await this.redis.publish(this.keys.cancelChannel, JSON.stringify(message));
      }
    } catch (error) {
      this.logger.warn(`task ${entry.ctx.task.id}: could not tell the workers to stop it: ${errorMessage(error)}`);
    }
  }

  // ---- safety net ----------------------------------------------------------

  /**
   * Events can be missed (a Redis restart between a job finishing and our read, a
   * trimmed stream). Jobs awaited for a while are looked up directly; a job Redis
   * lost altogether (no appendonly) is queued again under the same id.
   */
  private async reconcile(): Promise<void> {
    if (this.closed || this.reconciling) return;
    this.reconciling = true;
    try {
      await this.reconcileOnce();
    } finally {
      this.reconciling = false;
    }
  }

  private async reconcileOnce(): Promise<void> {
    const horizon = this.clock.now() - (this.options.reconcileMs ?? 5000);
    for (const entry of [...this.awaited.values()]) {
      if (entry.since > horizon || entry.settling || this.closed) continue;
      try {
        const state = await this.queue.getJobState(entry.jobId);
        if (state === 'completed' || state === 'failed') await this.collectFinished(entry);
        else if (state === 'unknown' && this.awaited.has(entry.jobId)) {
          this.logger.warn(`task ${entry.ctx.task.id}: its job ${entry.jobId} is gone from Redis; queueing it again`);
          await this.submit(entry);
        }
      } catch (error) {
        this.logger.debug(`reconcile ${entry.jobId}: ${errorMessage(error)}`);
      }
    }
  }
}

/**
 * One warning per connection and problem, not one per reconnect attempt: a Redis
 * that is down for a minute should not fill the log.
 */
export function connectionWarnings(logger: Logger, redisUrl: string): (what: string) => (error: Error) => void {
  const last = new Map<string, string>();
  return (what) => (error) => {
    if (last.get(what) === error.message) return;
    last.set(what, error.message);
    logger.warn(`redis (${what}, ${redactRedisUrl(redisUrl)}): ${error.message}; retrying`);
  };
}

/** The run's git source, recorded by `runSourceHook` when the run was prepared. */
function sourceOf(ctx: TaskContext): { source?: RunSource } {
  const source: RunSource | undefined = ctx.run.delivery?.source;
  return source && typeof source.remote === 'string' && typeof source.baseCommit === 'string' ? { source } : {};
}
