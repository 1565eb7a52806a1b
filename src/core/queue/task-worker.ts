import os from 'node:os';
import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { TaskContext, TaskRunner } from '../runners/task-runner.ts';
import { NeedsInput, PauseRun, TaskError } from '../runners/task-runner.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { connectionWarnings } from './bullmq-executor.ts';
import { bullConnection } from './redis-url.ts';
import type { CancelMessage, TaskJobData, TaskJobProgress, TaskJobRecord, TaskJobResult, TaskJobStop } from './task-job.ts';
import { DEFAULT_QUEUE, TASK_JOB_VERSION, queueKeys } from './task-job.ts';
import type { WorkspaceResolver } from './worker-workspace.ts';

export interface TaskWorkerOptions {
  redisUrl: string;
  runners: TaskRunner[];
  /** Where each job's task runs (its own checkout on another machine). */
  workspace: WorkspaceResolver;
  queue?: string;
  prefix?: string;
  concurrency?: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is re-run elsewhere after about this long (default 30 s). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default: the lock duration). */
  stalledIntervalMs?: number;
  logger?: Logger;
}

/**
 * Documented lifecycle: `starting` → `running` → `draining` (SIGTERM: takes no new
 * jobs, finishes the ones it has) → `stopped`. Illegal moves throw.
 */
export type TaskWorkerState = 'starting' | 'running' | 'draining' | 'stopped';

/** For a job BullMQ hands over without a signal (it passes one to every processor that declares it, as ours does). */
const neverAborted = new AbortController().signal;

/** Jobs cancelled before this worker started them are remembered this long. */
const EARLY_CANCEL_MS = 60_000;

/**
 * One `orchestr8 worker` process: takes task jobs from the BullMQ queue and runs
 * them with the same runners the embedded engine uses. Redis does the locking and
 * stalled-job detection: if this process dies mid-task, another worker runs the
 * job again once its lock expires.
 */
export class TaskWorker {
  readonly id = `${os.hostname()}:${process.pid}`;
  private readonly worker: Worker<TaskJobData, TaskJobResult>;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly keys: ReturnType<typeof queueKeys>;
  private readonly runners = new Map<string, TaskRunner>();
  private readonly logger: Logger;
  private readonly earlyCancels = new Map<string, { reason: string; at: number }>();
  private _state: TaskWorkerState = 'starting';
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: TaskWorkerOptions) {
    const queue = options.queue ?? DEFAULT_QUEUE;
    const prefix = options.prefix ?? 'bull';
    this.logger = options.logger ?? silentLogger;
    for (const runner of options.runners) this.runners.set(runner.kind, runner);
    this.keys = queueKeys(prefix, queue);
    const lockDuration = options.lockDurationMs ?? 30_000;
    this.worker = new Worker<TaskJobData, TaskJobResult>(queue, (job, _token, signal) => this.process(job, signal), {
      connection: bullConnection(options.redisUrl),
      prefix,
      concurrency: options.concurrency ?? 4,
      lockDuration,
      stalledInterval: options.stalledIntervalMs ?? lockDuration,
      // A job whose worker died twice is failed; the engine's retry policy decides what next.
      maxStalledCount: 1,
      autorun: false,
    });
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    const onError = connectionWarnings(this.logger, options.redisUrl);
    this.worker.on('error', onError('worker'));
    this.redis.on('error', onError('client'));
    this.subscriber.on('error', onError('cancel channel'));
    this.worker.on('stalled', (jobId) => this.logger.warn(`job ${jobId} stalled (its worker died?); it is queued again`));
    this.subscriber.on('message', (_channel, text: string) => this.onCancel(text));
  }

  get state(): TaskWorkerState {
    return this._state;
  }

  /** Connects, subscribes to cancellations and starts taking jobs. */
  async start(): Promise<void> {
    if (this._state !== 'starting') throw new Error(`cannot start a worker that is ${this._state}`);
    await this.subscriber.subscribe(this.keys.cancelChannel);
    await this.worker.waitUntilReady();
    this._state = 'running';
    void this.worker.run().catch((error) => this.logger.error('worker loop stopped', error));
  }

  /**
   * Graceful drain: stop taking jobs and let the running ones finish (SIGTERM).
   * `force` instead gives running jobs back to the queue at once, for another worker.
   */
  async stop(force = false): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this._state === 'starting') this._state = 'stopped';
    else this._state = 'draining';
    this.stopping = (async () => {
      await this.worker.close(force);
      await this.subscriber.quit().catch(() => this.subscriber.disconnect());
      await this.redis.quit().catch(() => this.redis.disconnect());
      this._state = 'stopped';
    })();
    return this.stopping;
  }

  // ---- one job -------------------------------------------------------------

  private async process(job: Job<TaskJobData, TaskJobResult>, signal: AbortSignal | undefined): Promise<TaskJobResult> {
    const data = job.data;
    const jobId = job.id!;
    if (data.v !== TASK_JOB_VERSION) {
      return this.fail(jobId, new TaskError(`job ${jobId} speaks protocol v${data.v}, this worker v${TASK_JOB_VERSION}: upgrade the older side`, false));
    }
    // BullMQ's own signal (aborted by cancelJob) goes to the runner as is: a controller of our
    // own chained to it cost an AbortController and a listener per job, for no extra meaning.
    const jobSignal = signal ?? neverAborted;
    let records = 0;
    try {
      // Cancelled before this worker took it; runners listen for 'abort', which an already-aborted signal never fires.
      const early = this.earlyCancels.get(jobId);
      if (early) throw new TaskError(early.reason, false);
      if (jobSignal.aborted) throw new TaskError(String(jobSignal.reason ?? 'cancelled'), false);
      const runner = this.runners.get(data.action.kind);
      if (!runner) throw new TaskError(`worker ${this.id} has no runner for ${data.action.kind} tasks`, false);
      const workspace = await this.options.workspace.prepare(data, jobSignal);
      const saves: Promise<{ error: unknown } | undefined>[] = [];
      const ctx = this.context(job, data, workspace.cwd, jobSignal, () => records++, saves);
      const output = await runner.execute(ctx);
      // A runner may leave its last saves un-awaited (TaskContext.saveCheckpoint): they are in Redis before the job completes.
      const failed = (await Promise.all(saves)).find((outcome) => outcome !== undefined);
      if (failed) throw failed.error;
      await workspace.finish(output);
      return {
        output: output.output,
        worker: this.id,
        records,
        ...(output.data !== undefined ? { data: output.data } : {}),
        ...(output.exitCode !== undefined ? { exitCode: output.exitCode } : {}),
      };
    } catch (error) {
      return this.fail(jobId, error);
    }
  }

  /** Leaves the failure's retryability for the coordinator, then fails the job. */
  private async fail(jobId: string, error: unknown): Promise<never> {
    const message = errorMessage(error);
    const retryable = !(error instanceof TaskError) || error.retryable;
    const stop = stopOf(error);
    const record: TaskJobRecord = { k: 'failure', message, retryable, ...(stop ? { stop } : {}) };
    await this.redis
      .rpush(this.keys.records(jobId), JSON.stringify(record))
      .catch((e: unknown) =>
        this.logger.error(`job ${jobId}: its failure record was not written (the coordinator takes the failure as retryable): ${errorMessage(e)}`),
      );
    throw error instanceof Error ? error : new Error(message);
  }

  private context(
    job: Job<TaskJobData, TaskJobResult>,
    data: TaskJobData,
    cwd: string,
    signal: AbortSignal,
    counted: () => void,
    saves: Promise<{ error: unknown } | undefined>[],
  ): TaskContext {
    const jobId = job.id!;
    const track = <T>(save: Promise<T>): Promise<T> => {
      saves.push(
        save.then(
          () => undefined,
          (error: unknown) => ({ error }),
        ),
      );
      return save;
    };
    const push = (record: TaskJobRecord) =>
      track(
        (async () => {
          await this.redis.rpush(this.keys.records(jobId), JSON.stringify(record));
          counted();
        })(),
      );
    return {
      task: data.task,
      run: data.run,
      action: data.action,
      cwd,
      signal,
      logger: this.logger,
      log: (text) => {
        const progress: TaskJobProgress = { k: 'log', text };
        job.updateProgress(progress).catch((error) => this.logger.debug(`progress of ${jobId}: ${errorMessage(error)}`));
      },
      // The process group lives on this machine: the coordinator must never signal it.
      setPid: () => {},
      loadCheckpoint: async () => {
        const saved = await this.redis.get(this.keys.checkpoint(data.task.id));
        return saved !== null ? JSON.parse(saved) : data.checkpoint;
      },
      saveCheckpoint: (state) => track(this.redis.set(this.keys.checkpoint(data.task.id), JSON.stringify(state)).then(() => {})),
      recordUsage: (usage) => push({ k: 'usage', usage }),
      recordGate: (gate) => push({ k: 'gate', gate }),
    };
  }

  private onCancel(text: string): void {
    let message: CancelMessage;
    try {
      message = JSON.parse(text) as CancelMessage;
    } catch {
      return;
    }
    if (this.worker.cancelJob(message.jobId, message.reason)) {
      this.logger.info(`job ${message.jobId}: ${message.reason}; stopping it`);
      return;
    }
    // Not (yet) running here: remember it, in case this worker is just taking it.
    const now = Date.now();
    this.earlyCancels.set(message.jobId, { reason: message.reason, at: now });
    for (const [id, c] of this.earlyCancels) if (now - c.at > EARLY_CANCEL_MS) this.earlyCancels.delete(id);
  }
}

/** The wait an attempt stopped for, if it did not fail (`NeedsInput`, `PauseRun`). */
function stopOf(error: unknown): TaskJobStop | undefined {
  if (error instanceof NeedsInput) return { kind: 'needs-input', request: error.request };
  if (error instanceof PauseRun)
    return { kind: 'pause', message: error.message, why: error.why, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) };
  return undefined;
}
