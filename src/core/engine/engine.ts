import os from 'node:os';
import path from 'node:path';
import type { EngineEvent } from '../model/events.ts';
import type { InputReply } from '../model/input-request.ts';
import type { RunRecord } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { isTerminal } from '../model/task-state.ts';
import type { WebhookOutboxStore } from '../notifications/webhook-outbox.ts';
import { LocalExecutor } from '../runners/local-executor.ts';
import { NoopRunner } from '../runners/noop-runner.ts';
import { ShellRunner } from '../runners/shell-runner.ts';
import type { StateBackend } from '../store/backend.ts';
import { StateStore } from '../store/state-store.ts';
import type { StorageState } from '../store/storage-full.ts';
import type { StoreRecord } from '../store/store-records.ts';
import { systemClock } from '../util/clock.ts';
import type { Disposable } from '../util/disposable.ts';
import { newRunId, runIdOf, splitTaskId } from '../util/ids.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { activeRun, type ActiveRun } from './active-run.ts';
import type { EngineApi, LaunchRequest, LaunchResult, SignalOptions } from './engine-api.ts';
import { EngineCore, type EngineLifecycle } from './engine-core.ts';
import type { EngineOptions } from './engine-options.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';
import { newRun } from './new-run.ts';
import { recover } from './recovery.ts';
import { followUpTask, retryRun } from './reruns.ts';
import { StateQueries, type EngineReads } from './state-queries.ts';
import { QueryFacade } from './query-facade.ts';
import { TaskLogs } from './task-logs.ts';

const SHUTDOWN_GRACE_MS = 5000;
const FINALIZE_GRACE_MS = 60_000;

/**
 * The engine: owns one state folder, progresses runs through their DAGs and is the
 * only writer of their state. Every transition is made durable before anyone hears
 * of it; after a crash, `open` picks up where the dead owner stopped.
 *
 * This class is the facade: commands are checked here and turned into moves (moves.ts);
 * dispatch is the Scheduler's, attempts the Attempts', a run's end the Finalizer's, and
 * reads go to the StateQueries it holds.
 */
export class Engine extends QueryFacade implements EngineApi {
  private readonly core: EngineCore;
  private readonly reads: EngineReads;

  private constructor(
    private readonly store: StateBackend,
    private readonly options: EngineOptions,
  ) {
    const logger = options.logger ?? silentLogger;
    const logs = new TaskLogs(path.join(options.stateDir, 'logs'), (file, error) =>
      logger.warn(`task output is being dropped: ${file} cannot be written (${errorMessage(error)}); the log notes how much once it can`),
    );
    super(new StateQueries(store.index, logs));
    this.reads = this.queries.reads;
    const runners = [new ShellRunner(), new NoopRunner(), ...(options.runners ?? [])];
    this.core = new EngineCore({
      store,
      reads: this.reads,
      logs,
      executor: options.executor ?? new LocalExecutor(runners, options.concurrency ?? Math.max(2, os.availableParallelism())),
      hooks: options.hooks ?? [],
      hookContext: { engine: this, recordDelivery: async (runId, patch) => void (await this.recordDelivery(runId, patch)) },
      logger,
      clock: options.clock ?? systemClock,
      api: this,
      shutdownGraceMs: options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS,
      finalizeGraceMs: options.finalizeGraceMs ?? FINALIZE_GRACE_MS,
      inputTimeoutMs: options.inputTimeoutMs ?? 0,
    });
    store.onStorage((state) => this.core.scheduler.storageChanged(state));
  }

  /** Opens the state folder as its owner (throws StateOwnedError if another live process owns it) and resumes unfinished runs. */
  static async open(options: EngineOptions): Promise<Engine> {
    const store =
      options.backend ??
      (await StateStore.openOwner(options.stateDir, {
        ...(options.logger ? { logger: options.logger } : {}),
        command: options.command ?? 'orchestr8',
        ...(options.snapshotThreshold ? { snapshotThreshold: options.snapshotThreshold } : {}),
        ...(options.indexWorker ? { indexWorker: options.indexWorker } : {}),
      }));
    const engine = new Engine(store, options);
    try {
      await recover(engine.core);
    } catch (error) {
      await store.close();
      throw error;
    }
    return engine;
  }

  get lifecycle(): EngineLifecycle {
    return this.core.state;
  }

  /**
   * Runs not finished on disk, plus those whose launch or resume is being written (the CLI's
   * background owner exits when this reaches zero, and must leave nothing behind). A run's
   * finish lowers it only once that finish is durable: it never gets ahead of the disk.
   */
  get activeRunCount(): number {
    return this.core.active.size + this.core.starting.size;
  }

  /** `paused` while the disk is full: new work is refused and no attempt starts until writes succeed again. */
  get storage(): StorageState {
    return this.store.storage;
  }

  onEvent(listener: (event: EngineEvent) => void): Disposable {
    return this.core.events.event(listener);
  }

  // ---- commands ------------------------------------------------------------

  launch = async (request: LaunchRequest): Promise<LaunchResult> => {
    const core = this.core;
    core.assertWritable();
    // Generated ids are random; only a caller's own id can collide.
    if (request.id) {
      const stored = await this.reads.getRun(request.id);
      core.assertWritable();
      if (stored || core.active.has(request.id) || core.starting.has(request.id)) throw new ConflictError(`run ${request.id} exists already`);
    }
    const now = this.core.deps.clock.now();
    const { run, tasks } = newRun(request, request.id ?? newRunId(), this.options.cwd, now);
    const active = activeRun(run, tasks);
    active.uncheckpointed = new Set(tasks.map((t) => t.key));
    const batch = new Batch();
    // Active (listed, answered for) only once durable. Its first tasks' starts go in the same
    // batch and begin once it is durable; a run with prepareRun hooks holds them in `held` until prepared.
    moves.launchRun(batch, active);
    core.scheduler.preparedAtOnce(active);
    core.scheduler.progress(active, batch, now);
    core.scheduler.pump(batch); // its first tasks' starts share the launch's fsync
    await core.commit(batch);
    void core.scheduler.prepare(active);
    return { runId: run.id, taskIds: tasks.map((t) => t.id) };
  };

  cancel = async (id: string): Promise<void> => {
    const core = this.core;
    core.assertWritable();
    const { active, key } = await this.activeTarget(id, 'cancel');
    const now = core.deps.clock.now();
    const batch = new Batch();
    const targets = key ? [active.tasks.get(key)!] : [...active.tasks.values()];
    if (key && isTerminal(targets[0]!.state)) throw new ConflictError(`task ${targets[0]!.id} is ${targets[0]!.state}; nothing to cancel`);
    for (const task of targets) {
      if (isTerminal(task.state)) continue;
      core.attempts.cancel(task);
      moves.cancel(batch, active, task, now);
    }
    core.scheduler.progress(active, batch, now);
    await core.commit(batch);
    core.scheduler.pump();
  };

  retry = (id: string): Promise<void> => retryRun(this.core, this.queries, id);

  followUp = (id: string, prompt: string): Promise<void> => followUpTask(this.core, this.queries, id, prompt);

  signal = async (id: string, payload?: string, options?: SignalOptions): Promise<void> => {
    const core = this.core;
    core.assertWritable();
    const { active, key } = await this.activeTarget(id, 'signal');
    const task = key ? active.tasks.get(key) : undefined;
    if (task?.state !== 'waiting') throw new ConflictError(`task ${id} is not waiting for a signal${task ? ` (it is ${task.state})` : ''}`);
    const now = core.deps.clock.now();
    core.attempts.signalled(task);
    const batch = new Batch();
    if (options?.reject) moves.fail(batch, active, task, now, `rejected${payload ? `: ${payload}` : ''}`);
    else moves.complete(batch, active, task, { taskId: task.id, runId: active.run.id, output: payload ?? 'signalled', createdAt: now }, now);
    core.scheduler.progress(active, batch, now);
    core.scheduler.pump(batch);
    await core.commit(batch);
    core.scheduler.pump();
  };

  answer = async (id: string, reply: InputReply): Promise<void> => {
    const core = this.core;
    core.assertWritable();
    const { active, key } = await this.activeTarget(id, 'answer');
    const task = key ? active.tasks.get(key) : undefined;
    if (task?.state !== 'needs-input') throw new ConflictError(`task ${id} asks nothing${task ? ` (it is ${task.state})` : ''}`);
    await core.inputs.answer(active, task, reply);
    core.scheduler.pump();
  };

  pause = async (id: string, reason?: string): Promise<void> => {
    const core = this.core;
    core.assertWritable();
    const { active } = await this.activeTarget(runIdOf(id), 'pause');
    const batch = new Batch();
    core.pauses.pause(active, batch, reason ?? 'paused by the user', core.deps.clock.now());
    await core.commit(batch);
  };

  resume = async (id: string): Promise<void> => {
    const core = this.core;
    core.assertWritable();
    const { active } = await this.activeTarget(runIdOf(id), 'resume');
    await core.pauses.resume(active);
  };

  markDelivered = async (ids: string[]): Promise<void> => {
    this.core.assertRunning();
    const now = this.core.deps.clock.now();
    const records: StoreRecord[] = [];
    for (const id of ids) {
      const n = await this.reads.getNotification(id);
      if (n && n.deliveredAt === undefined) records.push({ t: 'notification', notification: { ...n, deliveredAt: now } });
    }
    await this.core.commit(Batch.of(records));
  };

  clearFinished = async (before?: number): Promise<number> => {
    const core = this.core;
    core.assertWritable();
    const finished = await this.reads.finishedRunIds(before ?? core.deps.clock.now() + 1);
    const runIds = finished.filter((id) => !core.active.has(id) && !core.starting.has(id));
    if (runIds.length === 0) return 0;
    const batch = new Batch();
    batch.record({ t: 'delete-runs', runIds }, { type: 'workflow.removed', runIds });
    await core.commit(batch);
    for (const id of runIds) core.deps.logs.remove(id);
    return runIds.length;
  };

  /**
   * Resolves once the run's runFinished hooks (a push, a pull request) that are under way
   * are done, at once if none are; what they recorded is then in `status(runId)`.
   * A failed finalization resolves too (the next owner tries again).
   */
  async whenFinalized(runId: string): Promise<void> {
    await this.core.finalizer.whenFinalized(await this.queries.resolveRunId(runId));
  }

  /**
   * Records what a run delivered (adapters: a branch, a worktree, a push, a pull request) durably,
   * then announces it with `run.delivered`.
   */
  async recordDelivery(runId: string, patch: RunDelivery): Promise<RunRecord> {
    this.core.assertRunning();
    const active = this.core.active.get(runId);
    const current = active?.run ?? (await this.reads.getRun(runId));
    if (!current) throw new NotFoundError(`no run ${runId}`);
    const batch = new Batch();
    const run = moves.deliver(batch, current, patch, active);
    await this.core.commit(batch);
    return run;
  }

  /** The durable webhook outbox, for the webhook dispatcher in this (owning) process. */
  webhookOutbox(): WebhookOutboxStore {
    return {
      ...this.reads.outbox,
      save: async (deliveries, cursor) => {
        this.core.assertRunning();
        const records: StoreRecord[] = deliveries.map((delivery) => ({ t: 'webhook', delivery }));
        if (cursor !== undefined) records.push({ t: 'cursor', name: 'webhooks', seq: cursor });
        await this.core.commit(Batch.of(records));
      },
    };
  }

  /** Stops cleanly: interrupts running tasks (they are re-queued without using an attempt), flushes the journal, releases the lock. */
  async close(): Promise<void> {
    const core = this.core;
    if (core.state !== 'running') return;
    core.state = 'closing';
    core.scheduler.cancelTimers();
    core.inputs.cancelTimers();
    core.pauses.cancelTimers();
    await core.attempts.stop(core.deps.shutdownGraceMs);
    await core.finalizer.drain(core.deps.finalizeGraceMs);
    await core.deps.executor.close();
    await this.store.close();
    core.state = 'closed';
    core.events.dispose();
  }

  private async activeTarget(id: string, verb: string): Promise<{ active: ActiveRun; key?: string }> {
    const runId = await this.queries.resolveRunId(id);
    const active = await this.core.settledActive(runId);
    if (!active) throw new ConflictError(`run ${runId} is ${(await this.reads.getRun(runId))?.state}; nothing to ${verb}`);
    const key = splitTaskId(id)?.key;
    if (key === undefined) return { active };
    if (!active.tasks.has(key)) throw new NotFoundError(`no task ${id}`);
    return { active, key };
  }
}
