import os from 'node:os';
import path from 'node:path';
import type { EngineEvent } from '../model/events.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../model/records.ts';
import { mergeDelivery, type RunDelivery } from '../model/run-delivery.ts';
import { isTerminal } from '../model/task-state.ts';
import type { TaskDef, WorkflowDef } from '../model/workflow.ts';
import { DEFAULT_RETRY } from '../model/workflow.ts';
import { runFinishedNotification, taskFailedNotification } from '../notifications/notification-builder.ts';
import { LocalExecutor } from '../runners/local-executor.ts';
import { NoopRunner } from '../runners/noop-runner.ts';
import { ShellRunner } from '../runners/shell-runner.ts';
import type { TaskExecutor } from '../runners/task-executor.ts';
import type { TaskContext, TaskOutput, TaskRunner } from '../runners/task-runner.ts';
import { TaskError, abortReason } from '../runners/task-runner.ts';
import { backoffDelay, hasAttemptsLeft } from '../scheduler/backoff.ts';
import { deriveRunState, dependentsOf, readiness } from '../scheduler/run-progress.ts';
import { TaskMachine, MAX_STALLS, hasResumesLeft } from '../scheduler/task-machine.ts';
import type { StateDb } from '../store/state-db.ts';
import { isProcessAlive } from '../store/state-lock.ts';
import { StateStore } from '../store/state-store.ts';
import { StorageFullError } from '../store/storage-full.ts';
import type { StorageState } from '../store/storage-full.ts';
import type { StoreRecord } from '../store/store-records.ts';
import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';
import { crashPoint } from '../util/crash-points.ts';
import type { Disposable } from '../util/disposable.ts';
import { Emitter } from '../util/emitter.ts';
import { Heap } from '../util/heap.ts';
import { newRunId, taskId } from '../util/ids.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import { InterpolationError, interpolateAction } from '../workflow/interpolate.ts';
import { resolveInputs } from '../workflow/inputs.ts';
import type { LaunchRequest, LaunchResult, SingleTaskSpec } from './engine-api.ts';
import type { RunHooks } from './run-hooks.ts';
import { NotFoundError, StateQueries } from './state-queries.ts';
import { TaskLogs } from './task-logs.ts';
import type { WebhookOutboxStore } from '../notifications/webhook-outbox.ts';
import type { TaskLogWriter } from './task-logs.ts';

export interface EngineOptions {
  /** Folder of the durable state (the extension passes its workspace storage). */
  stateDir: string;
  /** Default working folder of runs (the project). */
  cwd: string;
  /** Runners beyond the built-in `run` (shell) and `noop` ones, e.g. the agent runner. */
  runners?: TaskRunner[];
  /** Where tasks execute; defaults to this process with `concurrency` slots. */
  executor?: TaskExecutor;
  /** Tasks of all runs at once in the default executor (default: number of CPUs, at least 2). */
  concurrency?: number;
  hooks?: RunHooks[];
  logger?: Logger;
  clock?: Clock;
  /** Names this process in the lock file, for errors other processes show. */
  command?: string;
  snapshotThreshold?: number;
  /** See `StoreOptions.snapshotWorker`. */
  snapshotWorker?: string;
  /** How long `close()` waits for interrupted tasks to stop (default 5 s). */
  shutdownGraceMs?: number;
  /**
   * How long `close()` waits for runs being finalized (a push, a pull request) before it
   * leaves them to the next owner, which finalizes them again (default 60 s).
   */
  finalizeGraceMs?: number;
}

/** Lifecycle of an engine; illegal moves throw. */
export type EngineLifecycle = 'running' | 'closing' | 'closed';

interface ActiveRun {
  run: RunRecord;
  tasks: Map<string, TaskRecord>;
  /** Tasks of this run holding an executor slot. */
  running: number;
  /** prepareRun hooks done: tasks may start. */
  prepared: boolean;
  /** Ready tasks held back by the run's concurrency limit or preparation. */
  held: QueueEntry[];
  /**
   * Set once the run has finished in memory: the commit of the batch saying so. The run stays
   * in the active set until then, so nothing the engine says gets ahead of the disk.
   */
  finished?: Promise<void>;
}

interface QueueEntry {
  runId: string;
  key: string;
  priority: number;
  seq: number;
}

interface Execution {
  controller: AbortController;
  log: TaskLogWriter;
  timer?: { cancel(): void };
  done: Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5000;
const FINALIZE_GRACE_MS = 60_000;

/**
 * The engine: owns one state folder, progresses runs through their DAGs and is the
 * only writer of their state. Every transition is made durable before anyone hears
 * of it; after a crash, `open` picks up where the dead owner stopped.
 */
export class Engine extends StateQueries {
  protected readonly db: StateDb;
  protected readonly logs: TaskLogs;
  private readonly events: Emitter<EngineEvent>;
  private readonly executor: TaskExecutor;
  private readonly hooks: RunHooks[];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly active = new Map<string, ActiveRun>();
  /** Runs being launched or resumed: their batch is not durable yet, so they are not active yet. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly queue = new Heap<QueueEntry>((a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq));
  private readonly executions = new Map<string, Execution>();
  /** runFinished hooks in flight: a CLI owner closes right after its last run ends, and should not cut a push short. */
  private readonly finalizing = new Map<string, Promise<void>>();
  private readonly waitTimers = new Map<string, { cancel(): void }>();
  private readonly retryTimers = new Set<{ cancel(): void }>();
  private queueSeq = 0;
  private state: EngineLifecycle = 'running';
  private failure: Error | undefined;
  private storagePausedAt = 0;

  private constructor(
    private readonly store: StateStore,
    private readonly options: EngineOptions,
  ) {
    super();
    this.db = store.db;
    this.logs = new TaskLogs(path.join(options.stateDir, 'logs'), (file, error) =>
      this.logger.warn(`task output is being dropped: ${file} cannot be written (${errorMessage(error)}); the log notes how much once it can`),
    );
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.hooks = options.hooks ?? [];
    this.events = new Emitter((error) => this.logger.error('event listener failed', error));
    const runners = [new ShellRunner(), new NoopRunner(), ...(options.runners ?? [])];
    this.executor = options.executor ?? new LocalExecutor(runners, options.concurrency ?? Math.max(2, os.availableParallelism()));
    store.onStorage((state) => this.storageChanged(state));
  }

  /** Opens the state folder as its owner (throws StateOwnedError if another live process owns it) and resumes unfinished runs. */
  static async open(options: EngineOptions): Promise<Engine> {
    const store = await StateStore.openOwner(options.stateDir, {
      ...(options.logger ? { logger: options.logger } : {}),
      command: options.command ?? 'orchestr8',
      ...(options.snapshotThreshold ? { snapshotThreshold: options.snapshotThreshold } : {}),
      ...(options.snapshotWorker ? { snapshotWorker: options.snapshotWorker } : {}),
    });
    const engine = new Engine(store, options);
    try {
      await engine.recover();
    } catch (error) {
      await store.close();
      throw error;
    }
    return engine;
  }

  get lifecycle(): EngineLifecycle {
    return this.state;
  }

  /**
   * Runs not finished on disk, plus those whose launch or resume is being written (the CLI's
   * background owner exits when this reaches zero, and must leave nothing behind). A run's
   * finish lowers it only once that finish is durable: it never gets ahead of the disk.
   */
  get activeRunCount(): number {
    return this.active.size + this.starting.size;
  }

  /** `paused` while the disk is full: new work is refused and no attempt starts until writes succeed again. */
  get storage(): StorageState {
    return this.store.storage;
  }

  onEvent(listener: (event: EngineEvent) => void): Disposable {
    return this.events.event(listener);
  }

  // ---- launching -----------------------------------------------------------

  launch = async (request: LaunchRequest): Promise<LaunchResult> => {
    this.assertWritable();
    const now = this.clock.now();
    // Generated ids are random; only a caller's own id can collide.
    if (request.id && (this.active.has(request.id) || this.starting.has(request.id) || this.db.getRun(request.id))) throw new Error(`run ${request.id} exists already`);
    const runId = request.id ?? newRunId();
    const def = 'workflow' in request ? request.workflow : singleTaskWorkflow(request.task);
    const inputs = 'workflow' in request ? resolveInputs(def, request.inputs ?? {}) : {};
    const run: RunRecord = {
      id: runId,
      name: def.name,
      inputs,
      state: 'running',
      single: !('workflow' in request),
      cwd: request.cwd ?? this.options.cwd,
      createdAt: now,
      ...(def.file ? { file: def.file } : {}),
      ...(def.description ? { description: def.description } : {}),
      ...(def.concurrency ? { concurrency: def.concurrency } : {}),
      ...(def.options ? { options: def.options } : {}),
    };
    const tasks = def.tasks.map((t, order) => taskRecord(run.id, t, order, now));
    const active: ActiveRun = { run, tasks: new Map(tasks.map((t) => [t.key, t])), running: 0, prepared: false, held: [] };
    const batch = new Batch();
    batch.record({ t: 'run', run }, { type: 'workflow.launched', run, tasks });
    for (const t of tasks) batch.record({ t: 'task', task: t });
    this.progress(active, batch, now);
    // Active (counted, dispatched) only once durable; its ready tasks wait in `held` meanwhile.
    batch.starts(active);
    await this.commit(batch);
    void this.prepare(active);
    return { runId: run.id, taskIds: tasks.map((t) => t.id) };
  };

  // ---- commands ------------------------------------------------------------

  cancel = async (id: string): Promise<void> => {
    this.assertWritable();
    const { active, key } = await this.activeTarget(id, 'cancel');
    const now = this.clock.now();
    const batch = new Batch();
    const targets = key ? [active.tasks.get(key)!] : [...active.tasks.values()];
    if (key && isTerminal(targets[0]!.state)) throw new Error(`task ${targets[0]!.id} is ${targets[0]!.state}; nothing to cancel`);
    for (const task of targets) {
      if (isTerminal(task.state)) continue;
      this.execution(task.id)?.controller.abort('cancelled');
      this.waitTimers.get(task.id)?.cancel();
      this.update(active, batch, TaskMachine.cancel(task, now), 'task.cancelled');
    }
    this.progress(active, batch, now);
    await this.commit(batch);
    this.pump();
  };

  retry = async (id: string): Promise<void> => {
    this.assertWritable();
    const runId = this.resolveRunId(id);
    const key = id.includes('.') ? id.slice(id.indexOf('.') + 1) : undefined;
    const now = this.clock.now();
    const batch = new Batch();
    let active = await this.settledActive(runId);
    if (!active) {
      const run = this.db.getRun(runId)!;
      const tasks = this.db.getTasks(runId);
      active = { run, tasks: new Map(tasks.map((t) => [t.key, t])), running: 0, prepared: false, held: [] };
    }
    if (key && !active.tasks.has(key)) throw new NotFoundError(`no task ${id}`);
    const scope = key ? new Set([key, ...dependentsOf(key, active.tasks.values())]) : new Set(active.tasks.keys());
    const resettable = [...scope].map((k) => active.tasks.get(k)!).filter((t) => t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped');
    if (resettable.length === 0) throw new Error(`nothing to retry in ${key ? `task ${id}` : `run ${runId}`}: no failed, cancelled or skipped tasks`);
    const wasActive = this.active.has(runId);
    if (!wasActive) {
      const { finishedAt: _finished, error: _error, finalized: _finalized, ...rest } = active.run;
      active.run = { ...rest, state: 'running' };
      batch.record({ t: 'run', run: active.run }, { type: 'workflow.resumed', run: active.run });
      batch.starts(active);
    }
    for (const task of resettable) this.update(active, batch, TaskMachine.reset(task, now), 'task.reset');
    this.progress(active, batch, now);
    await this.commit(batch);
    if (!wasActive) void this.prepare(active);
    else this.pump();
  };

  signal = async (id: string, payload?: string): Promise<void> => {
    this.assertWritable();
    const { active, key } = await this.activeTarget(id, 'signal');
    const task = key ? active.tasks.get(key) : undefined;
    if (!task || task.state !== 'waiting') throw new Error(`task ${id} is not waiting for a signal${task ? ` (it is ${task.state})` : ''}`);
    const now = this.clock.now();
    this.waitTimers.get(task.id)?.cancel();
    this.waitTimers.delete(task.id);
    const result: TaskResult = { taskId: task.id, runId: active.run.id, output: payload ?? 'signalled', createdAt: now };
    const batch = new Batch();
    const done = this.update(active, batch, TaskMachine.complete(task, now));
    batch.record({ t: 'result', result }, { type: 'task.completed', task: done, result });
    this.progress(active, batch, now);
    await this.commit(batch);
    this.pump();
  };

  markDelivered = async (ids: string[]): Promise<void> => {
    this.assertRunning();
    const now = this.clock.now();
    const records: StoreRecord[] = [];
    for (const id of ids) {
      const n = this.db.getNotification(id);
      if (n && n.deliveredAt === undefined) records.push({ t: 'notification', notification: { ...n, deliveredAt: now } });
    }
    await this.commit(Batch.of(records));
  };

  clearFinished = async (before?: number): Promise<number> => {
    this.assertWritable();
    const runIds = this.db.finishedRunIds(before ?? this.clock.now() + 1).filter((id) => !this.active.has(id) && !this.starting.has(id));
    if (runIds.length === 0) return 0;
    const batch = new Batch();
    batch.record({ t: 'delete-runs', runIds }, { type: 'workflow.removed', runIds });
    await this.commit(batch);
    for (const id of runIds) this.logs.remove(id);
    return runIds.length;
  };

  /**
   * Resolves once the run's runFinished hooks (a push, a pull request) that are under way
   * are done, at once if none are; what they recorded is then in `status(runId)`.
   * A failed finalization resolves too (the next owner tries again).
   */
  async whenFinalized(runId: string): Promise<void> {
    await this.finalizing.get(this.resolveRunId(runId));
  }

  /**
   * Records what a run delivered (adapters: a branch, a worktree, a push, a pull request) durably,
   * then announces it with `run.delivered`.
   */
  async recordDelivery(runId: string, patch: RunDelivery): Promise<RunRecord> {
    this.assertRunning();
    const active = this.active.get(runId);
    const current = active?.run ?? this.db.getRun(runId);
    if (!current) throw new NotFoundError(`no run ${runId}`);
    const batch = new Batch();
    const run = this.deliver(batch, current, patch, active);
    await this.commit(batch);
    return run;
  }

  /** The durable webhook outbox, for the webhook dispatcher in this (owning) process. */
  webhookOutbox(): WebhookOutboxStore {
    return {
      get: (id) => this.db.getWebhookDelivery(id),
      due: (now, limit) => this.db.dueWebhookDeliveries(now, limit),
      nextAttemptAt: () => this.db.nextWebhookAttempt(),
      cursor: () => this.db.cursor('webhooks'),
      lastEventSeq: () => this.db.lastEventSeq(),
      save: async (deliveries, cursor) => {
        this.assertRunning();
        const records: StoreRecord[] = deliveries.map((delivery) => ({ t: 'webhook', delivery }));
        if (cursor !== undefined) records.push({ t: 'cursor', name: 'webhooks', seq: cursor });
        await this.commit(Batch.of(records));
      },
    };
  }

  /** Stops cleanly: interrupts running tasks (they are re-queued without using an attempt), flushes the journal, releases the lock. */
  async close(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'closing';
    for (const timer of [...this.waitTimers.values(), ...this.retryTimers]) timer.cancel();
    for (const execution of this.executions.values()) execution.controller.abort('shutdown');
    const grace = this.options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
    await Promise.race([Promise.all([...this.executions.values()].map((e) => e.done)), new Promise((r) => setTimeout(r, grace).unref())]);
    if (this.finalizing.size) {
      const finalizeGrace = this.options.finalizeGraceMs ?? FINALIZE_GRACE_MS;
      await Promise.race([Promise.all(this.finalizing.values()), new Promise((r) => setTimeout(r, finalizeGrace).unref())]);
    }
    await this.executor.close();
    await this.store.close();
    this.state = 'closed';
    this.events.dispose();
  }

  // ---- progression ---------------------------------------------------------

  /** Moves pending tasks whose needs are decided, and finishes the run when nothing is left. */
  private progress(active: ActiveRun, batch: Batch, now: number): void {
    if (active.run.state !== 'running') return; // finished already; its batch is on the way to disk
    for (let changed = true; changed; ) {
      changed = false;
      for (const task of active.tasks.values()) {
        if (task.state !== 'pending') continue;
        const r = readiness(task, active.tasks);
        if (r.kind === 'blocked') continue;
        changed = true;
        if (r.kind === 'skip') this.update(active, batch, TaskMachine.skip(task, now, r.reason), 'task.skipped');
        else this.enqueue(active, this.update(active, batch, TaskMachine.ready(task, now), 'task.queued'), batch, now);
      }
    }
    const state = deriveRunState(active.tasks.values());
    if (state === 'running') return;
    const finishing = this.hooks.some((h) => h.runFinished);
    active.run = { ...active.run, state, finishedAt: now, finalized: !finishing };
    const tasks = [...active.tasks.values()];
    batch.record({ t: 'run', run: active.run }, { type: `workflow.${state}`, run: active.run } as EngineEvent);
    batch.record({ t: 'notification', notification: runFinishedNotification(active.run, tasks, now) });
    batch.finishes(active);
    crashPoint('run.finishing');
    if (finishing) batch.afterCommit(() => this.startFinalize(active.run, tasks));
  }

  /** A ready task: wait tasks start waiting at once; others join the dispatch queue. */
  private enqueue(active: ActiveRun, task: TaskRecord, batch: Batch, now: number): void {
    if (task.action.kind === 'wait') {
      const waiting = this.update(active, batch, TaskMachine.awaitSignal(task, now), 'task.waiting');
      this.armWaitTimeout(active, waiting, waiting.timeoutMs);
      return;
    }
    const entry: QueueEntry = { runId: active.run.id, key: task.key, priority: task.priority, seq: this.queueSeq++ };
    const delay = (task.notBefore ?? 0) - now;
    if (delay <= 0) {
      // Until prepared (and so until durable: see launch) no task of the run may start.
      if (active.prepared) this.queue.push(entry);
      else active.held.push(entry);
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push(entry);
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  /** Starts queued tasks while the executor has slots, highest priority first, within each run's own limit. */
  private pump(): void {
    if (this.state !== 'running' || this.failure || this.store.storage.state === 'paused') return;
    let slots = this.executor.freeSlots();
    while (slots > 0) {
      const entry = this.queue.pop();
      if (!entry) return;
      const active = this.active.get(entry.runId);
      const task = active?.tasks.get(entry.key);
      if (!active || !task || task.state !== 'queued') continue; // stale: cancelled, or re-queued under a newer entry
      if (!active.prepared || (active.run.concurrency && active.running >= active.run.concurrency)) {
        active.held.push(entry);
        continue;
      }
      this.start(active, task);
      slots--;
    }
  }

  private start(active: ActiveRun, queued: TaskRecord): void {
    const now = this.clock.now();
    const task = TaskMachine.start(queued, now, process.pid);
    active.tasks.set(task.key, task);
    const batch = new Batch();
    batch.record({ t: 'task', task }, { type: 'task.started', task });
    const resumed = queued.interrupted === undefined ? '' : ` (resumed after interruption ${task.interruptions})`;
    this.execute(active, task, `--- attempt ${task.attempt}${resumed} · ${new Date(now).toISOString()} ---\n`, this.commit(batch));
  }

  /** A task left running by a previous owner whose executor runs tasks elsewhere: wait for the same attempt again. */
  private reattach(active: ActiveRun, task: TaskRecord): void {
    const now = this.clock.now();
    this.execute(active, task, `--- attempt ${task.attempt} · re-attached after a restart · ${new Date(now).toISOString()} ---\n`, Promise.resolve());
  }

  private execute(active: ActiveRun, task: TaskRecord, header: string, started: Promise<void>): void {
    active.running++;
    const controller = new AbortController();
    const log = this.logs.open(active.run.id, task.key, header);
    const execution: Execution = { controller, log, done: Promise.resolve() };
    this.executions.set(task.id, execution);
    if (task.timeoutMs) {
      const left = Math.max(0, (task.startedAt ?? this.clock.now()) + task.timeoutMs - this.clock.now());
      execution.timer = this.clock.setTimeout(() => controller.abort('timeout'), left);
    }
    execution.done = started
      .then(() => this.executor.execute(this.context(active, task, controller.signal, log)))
      .then(
        (output) => this.settle(active, task, { output }),
        (error: unknown) => this.settle(active, task, { error }),
      )
      .catch((error) => this.fatal(error));
  }

  private context(active: ActiveRun, task: TaskRecord, signal: AbortSignal, log: TaskLogWriter): TaskContext {
    const run = active.run;
    let action;
    try {
      action = interpolateAction(task.action, { inputs: run.inputs, result: (key) => this.db.getResult(taskId(run.id, key))?.output });
    } catch (error) {
      // A reference that cannot be resolved will not resolve on a retry either.
      if (error instanceof InterpolationError) throw new TaskError(error.message, false);
      throw error;
    }
    return {
      task,
      run,
      action,
      cwd: run.cwd,
      signal,
      logger: this.logger,
      engine: this,
      log: (text) => {
        log.write(text);
        this.events.fire({ type: 'task.progress', taskId: task.id, runId: run.id, text });
      },
      setPid: (pid) => {
        const current = active.tasks.get(task.key);
        if (current?.state !== 'running' || current.attempt !== task.attempt) return;
        const updated = TaskMachine.attachProcess(current, this.clock.now(), pid);
        active.tasks.set(task.key, updated);
        this.commit(Batch.of([{ t: 'task', task: updated }])).catch((error) => this.fatal(error));
      },
      loadCheckpoint: async () => this.db.checkpoint(task.id)?.state,
      saveCheckpoint: (state) => this.commit(Batch.of([{ t: 'checkpoint', checkpoint: { taskId: task.id, attempt: task.attempt, state, updatedAt: this.clock.now() } }])),
      recordUsage: (usage) => this.commit(Batch.of([{ t: 'usage', usage: { ...usage, taskId: task.id, runId: run.id, createdAt: this.clock.now() } }])),
      recordGate: (gate) => this.commit(Batch.of([{ t: 'gate', gate: { ...gate, taskId: task.id, runId: run.id, createdAt: this.clock.now() } }])),
    };
  }

  /** One attempt ended: complete, retry later, fail, or (on shutdown) put back without using the attempt. */
  private async settle(active: ActiveRun, started: TaskRecord, outcome: { output: TaskOutput } | { error: unknown }): Promise<void> {
    const execution = this.executions.get(started.id);
    execution?.timer?.cancel();
    execution?.log.close();
    this.executions.delete(started.id);
    active.running--;
    if (active.held.length) {
      for (const entry of active.held.splice(0)) this.queue.push(entry);
    }
    const current = active.tasks.get(started.key);
    // Cancelled (or reset) while it ran: the outcome of this attempt no longer matters.
    if (current?.state !== 'running' || current.attempt !== started.attempt) return this.pump();

    let outcomeOrError = outcome;
    if ('output' in outcome && this.hooks.length) {
      try {
        for (const hook of this.hooks) {
          await hook.taskCompleted?.(active.run, current, this.resultOf(current, outcome.output, this.clock.now()));
        }
      } catch (error) {
        outcomeOrError = { error: new TaskError(`after the task: ${errorMessage(error)}`) };
      }
    }

    const now = this.clock.now();
    const batch = new Batch();
    if ('output' in outcomeOrError) {
      const result = this.resultOf(current, outcomeOrError.output, now);
      const done = this.update(active, batch, TaskMachine.complete(current, now));
      batch.record({ t: 'result', result }, { type: 'task.completed', task: done, result });
    } else {
      const reason = execution ? abortReason(execution.controller.signal) : undefined;
      if (reason === 'shutdown' && this.executor.outlivesEngine) {
        return; // still running elsewhere: the next owner re-attaches to it (see recover)
      } else if (reason === 'shutdown') {
        this.interruptTask(active, batch, current, 'the engine running it shut down', now, false);
      } else {
        const error = outcomeOrError.error;
        const message = reason === 'timeout' ? `timed out after ${current.timeoutMs} ms` : errorMessage(error);
        const retryable = reason === 'timeout' || !(error instanceof TaskError) || error.retryable;
        if (retryable && hasAttemptsLeft(current.retry, current.attempt)) {
          const delay = backoffDelay(current.retry, current.attempt);
          const queued = TaskMachine.retryLater(current, now, message, now + delay);
          active.tasks.set(queued.key, queued);
          batch.record({ t: 'task', task: queued }, { type: 'task.retrying', task: queued, error: message, delayMs: delay });
          this.enqueue(active, queued, batch, now);
        } else {
          this.failTask(active, batch, current, message, now);
        }
      }
    }
    if (this.state === 'running') this.progress(active, batch, now);
    await this.commit(batch);
    this.pump();
  }

  private failTask(active: ActiveRun, batch: Batch, task: TaskRecord, message: string, now: number): void {
    const failed = TaskMachine.fail(task, now, message);
    active.tasks.set(failed.key, failed);
    batch.record({ t: 'task', task: failed }, { type: 'task.failed', task: failed, error: message });
    if (!active.run.single) batch.record({ t: 'notification', notification: taskFailedNotification(active.run, failed, now) });
  }

  private resultOf(task: TaskRecord, output: TaskOutput, now: number): TaskResult {
    return {
      taskId: task.id,
      runId: task.runId,
      output: output.output,
      createdAt: now,
      ...(output.data !== undefined ? { data: output.data } : {}),
      ...(output.exitCode !== undefined ? { exitCode: output.exitCode } : {}),
    };
  }

  private armWaitTimeout(active: ActiveRun, task: TaskRecord, timeoutMs: number | undefined): void {
    if (!timeoutMs) return;
    const remaining = Math.max(0, (task.startedAt ?? this.clock.now()) + timeoutMs - this.clock.now());
    const timer = this.clock.setTimeout(() => {
      this.waitTimers.delete(task.id);
      const current = active.tasks.get(task.key);
      if (current?.state !== 'waiting' || this.state !== 'running') return;
      const now = this.clock.now();
      const batch = new Batch();
      this.failTask(active, batch, current, `no signal within ${timeoutMs} ms`, now);
      this.progress(active, batch, now);
      this.commit(batch)
        .then(() => this.pump())
        .catch((error) => this.fatal(error));
    }, remaining);
    this.waitTimers.set(task.id, timer);
  }

  // ---- hooks ---------------------------------------------------------------

  private async prepare(active: ActiveRun): Promise<void> {
    try {
      for (const hook of this.hooks) {
        const prepared = await hook.prepareRun?.(active.run);
        if (prepared && (prepared.cwd || prepared.delivery)) {
          const batch = new Batch();
          this.deliver(batch, { ...active.run, ...(prepared.cwd ? { cwd: prepared.cwd } : {}) }, prepared.delivery ?? {}, active);
          await this.commit(batch);
        }
      }
    } catch (error) {
      const now = this.clock.now();
      const batch = new Batch();
      for (const task of active.tasks.values()) {
        if (task.state === 'queued') this.failTask(active, batch, task, `could not prepare the run: ${errorMessage(error)}`, now);
      }
      this.progress(active, batch, now);
      await this.commit(batch).catch((e) => this.fatal(e));
      return;
    }
    active.prepared = true;
    for (const entry of active.held.splice(0)) this.queue.push(entry);
    this.pump();
  }

  private startFinalize(run: RunRecord, tasks: TaskRecord[]): void {
    const done: Promise<void> = this.finalize(run, tasks).finally(() => {
      if (this.finalizing.get(run.id) === done) this.finalizing.delete(run.id);
    });
    this.finalizing.set(run.id, done);
  }

  private async finalize(run: RunRecord, tasks: TaskRecord[]): Promise<void> {
    let returned: RunDelivery = {};
    try {
      for (const hook of this.hooks) {
        const out = await hook.runFinished?.(run, tasks);
        if (out?.delivery) returned = { ...returned, ...out.delivery };
      }
    } catch (error) {
      this.logger.error(`finishing run ${run.id} failed; it will be tried again on the next start`, error);
      return;
    }
    if (this.state === 'closed') return;
    const latest = this.db.getRun(run.id);
    if (!latest || latest.state === 'running') return; // retried meanwhile
    // Merged into what is stored now, not into the record the hooks started from: a delivery
    // recorded meanwhile (recordDelivery from a hook or an adapter) must survive.
    const batch = new Batch();
    this.deliver(batch, { ...latest, finalized: true }, returned);
    await this.commit(batch).catch((e) => this.fatal(e));
  }

  // ---- recovery ------------------------------------------------------------

  /** After open: re-queue (or, past the interruption bound, fail) what a dead owner left running, resume unfinished runs, finish interrupted finalizations. */
  private async recover(): Promise<void> {
    const now = this.clock.now();
    const batch = new Batch();
    const previous = this.store.lock?.previous;
    const reattach: [ActiveRun, TaskRecord][] = [];
    for (const run of this.db.runsInState('running')) {
      const tasks = this.db.getTasks(run.id);
      const active: ActiveRun = { run, tasks: new Map(tasks.map((t) => [t.key, t])), running: 0, prepared: false, held: [] };
      // Already durable as running; nothing else runs before open returns.
      this.active.set(run.id, active);
      for (const task of tasks) {
        if (task.state === 'running' && this.executor.outlivesEngine) {
          reattach.push([active, task]);
        } else if (task.state === 'running') {
          reapProcessGroup(task);
          this.interruptTask(active, batch, task, `the engine running it (pid ${task.owner ?? previous?.pid ?? '?'}) stopped`, now, true);
        } else if (task.state === 'queued') {
          this.enqueue(active, task, batch, now);
        } else if (task.state === 'waiting') {
          this.armWaitTimeout(active, task, task.timeoutMs);
        }
      }
      this.progress(active, batch, now);
    }
    if (!batch.empty) await this.commit(batch);
    for (const [active, task] of reattach) this.reattach(active, task);
    for (const run of this.db.runsInState('completed').concat(this.db.runsInState('failed'), this.db.runsInState('cancelled'))) {
      if (run.finalized === false) this.startFinalize(run, this.db.getTasks(run.id));
    }
    for (const active of this.active.values()) void this.prepare(active);
  }

  // ---- plumbing ------------------------------------------------------------

  /** The move that changes what a run delivered: the run's new record and its `run.delivered` event, in one batch. */
  private deliver(batch: Batch, run: RunRecord, patch: RunDelivery, active?: ActiveRun): RunRecord {
    const delivery = mergeDelivery(run.delivery, patch);
    const { delivery: _old, ...rest } = run;
    const updated: RunRecord = Object.keys(delivery).length ? { ...rest, delivery } : rest;
    if (active) active.run = updated;
    batch.record({ t: 'run', run: updated }, { type: 'run.delivered', run: updated });
    return updated;
  }

  private update(active: ActiveRun, batch: Batch, task: TaskRecord, event?: 'task.queued' | 'task.skipped' | 'task.cancelled' | 'task.waiting' | 'task.reset'): TaskRecord {
    active.tasks.set(task.key, task);
    batch.record({ t: 'task', task }, event ? { type: event, task } : undefined);
    return task;
  }

  /**
   * Makes the batch durable, then lets the engine's own view follow (runs join and leave the
   * active set), then tells listeners: in that order, so neither the engine's answers nor its
   * events ever get ahead of the disk.
   */
  private async commit(batch: Batch): Promise<void> {
    if (batch.empty) return;
    let firstSeq = 0;
    const durable = this.store.commit(batch.records).then((seq) => void (firstSeq = seq));
    for (const active of batch.finishing) active.finished = durable;
    for (const active of batch.starting) this.starting.set(active.run.id, durable);
    try {
      await durable;
    } finally {
      for (const active of batch.starting) this.starting.delete(active.run.id);
    }
    for (const active of batch.starting) this.active.set(active.run.id, active);
    for (const active of batch.finishing) if (this.active.get(active.run.id) === active) this.active.delete(active.run.id);
    for (const [i, event] of batch.events.entries()) {
      event.seq = firstSeq + batch.eventRecords[i]!; // the batch's own objects: nobody has seen them yet
      this.events.fire(event);
    }
    batch.runAfterCommit();
  }

  /**
   * Interrupted (the engine running it stopped cleanly, or died: `stalled`): re-queued to resume
   * the same attempt, or, stalled past the bound, failed; the log says which.
   */
  private interruptTask(active: ActiveRun, batch: Batch, task: TaskRecord, why: string, now: number, stalled: boolean): void {
    const line = `--- attempt ${task.attempt} interrupted: ${why} · ${new Date(now).toISOString()} ---\n`;
    // Written once the interruption is durable: a crash before that is not logged twice.
    batch.afterCommit(() => this.logs.note(active.run.id, task.key, line, this.logger));
    if (stalled && !hasResumesLeft(task)) {
      const times = (task.stalls ?? 0) + 1;
      const message = `its engine died under it ${times} times; at most ${MAX_STALLS} are resumed (the last: ${why})`;
      this.failTask(active, batch, { ...task, interruptions: (task.interruptions ?? 0) + 1, stalls: times }, message, now);
      return;
    }
    const queued = TaskMachine.interrupt(task, now, why, stalled);
    active.tasks.set(queued.key, queued);
    batch.record({ t: 'task', task: queued }, { type: 'task.interrupted', task: queued, reason: why });
    this.enqueue(active, queued, batch, now);
  }

  /**
   * The run's in-memory state once whatever is on its way to disk for it (its launch or resume,
   * its finish) is durable: commands neither act on nor answer from a change that could be lost.
   */
  private async settledActive(runId: string): Promise<ActiveRun | undefined> {
    await this.starting.get(runId)?.catch(() => undefined);
    const finished = this.active.get(runId)?.finished;
    if (finished) await finished.catch(() => undefined);
    this.assertRunning();
    return this.active.get(runId);
  }

  private execution(taskId: string): Execution | undefined {
    return this.executions.get(taskId);
  }

  private async activeTarget(id: string, verb: string): Promise<{ active: ActiveRun; key?: string }> {
    const runId = this.resolveRunId(id);
    const active = await this.settledActive(runId);
    if (!active) throw new Error(`run ${runId} is ${this.db.getRun(runId)?.state}; nothing to ${verb}`);
    const dot = id.indexOf('.');
    if (dot < 0) return { active };
    const key = id.slice(dot + 1);
    if (!active.tasks.has(key)) throw new NotFoundError(`no task ${id}`);
    return { active, key };
  }

  private assertRunning(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'running') throw new Error(`the engine is ${this.state}`);
  }

  /**
   * For commands people give: refused at once while storage is paused, rather than left
   * waiting for space. The engine's own bookkeeping (a task finishing) waits instead.
   */
  private assertWritable(): void {
    this.assertRunning();
    const storage = this.store.storage;
    if (storage.state === 'paused') throw new StorageFullError(storage.reason);
  }

  /** The journal paused on a full disk, or wrote again: say so; queued attempts start once it has. */
  private storageChanged(state: StorageState): void {
    if (state.state === 'paused') {
      this.storagePausedAt = state.since;
      this.logger.error(`${new StorageFullError(state.reason).message} (running tasks go on; their results are saved when space returns)`);
      this.events.fire({ type: 'engine.storage', state: 'paused', reason: state.reason });
      return;
    }
    const reason = `writes succeed again after ${Math.round((Date.now() - this.storagePausedAt) / 1000)} s; work resumes`;
    this.logger.info(`storage: ${reason}`);
    this.events.fire({ type: 'engine.storage', state: 'resumed', reason });
    this.pump();
  }

  /** The journal cannot take writes: stop dispatching; what is on disk stays correct. */
  private fatal(error: unknown): void {
    if (this.failure || this.state === 'closed') return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.logger.error('engine stopped: state can no longer be saved', error);
    for (const execution of this.executions.values()) execution.controller.abort('shutdown');
  }
}

/** Records and the events they announce, committed together. */
class Batch {
  readonly records: StoreRecord[] = [];
  readonly events: EngineEvent[] = [];
  /** Per event, the index of its `event` record: its seq is the batch's first seq plus that. */
  readonly eventRecords: number[] = [];
  /** Runs this batch launches or resumes: active once it is durable. */
  readonly starting: ActiveRun[] = [];
  /** Runs this batch finishes: no longer active once it is durable. */
  readonly finishing: ActiveRun[] = [];
  private readonly after: (() => void)[] = [];
  private readonly rows = new Map<string, number>();

  /** A batch of records that change no run's or task's state machine and announce nothing (usage, checkpoints, the outbox). */
  static of(records: StoreRecord[]): Batch {
    const batch = new Batch();
    for (const record of records) batch.record(record);
    return batch;
  }

  get empty(): boolean {
    return this.records.length === 0;
  }

  record(record: StoreRecord, event?: EngineEvent): void {
    // Records hold full rows, so a row changed twice in one batch (pending → queued) needs only its last state.
    const row = record.t === 'task' ? `task ${record.task.id}` : record.t === 'run' ? `run ${record.run.id}` : undefined;
    const at = row === undefined ? undefined : this.rows.get(row);
    if (at !== undefined) this.records[at] = record;
    else {
      if (row !== undefined) this.rows.set(row, this.records.length);
      this.records.push(record);
    }
    if (!event) return;
    this.events.push(event);
    this.eventRecords.push(this.records.length);
    this.records.push({ t: 'event', event: storedEvent(event, Date.now()) });
  }

  starts(active: ActiveRun): void {
    this.starting.push(active);
  }

  finishes(active: ActiveRun): void {
    this.finishing.push(active);
  }

  afterCommit(fn: () => void): void {
    this.after.push(fn);
  }

  runAfterCommit(): void {
    for (const fn of this.after) fn();
  }
}

function storedEvent(event: EngineEvent, at: number): { type: string; at: number; runId?: string; taskId?: string; detail?: string } {
  switch (event.type) {
    case 'workflow.launched':
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled':
    case 'workflow.resumed':
    case 'run.delivered':
      return { type: event.type, at, runId: event.run.id };
    case 'workflow.removed':
      return { type: event.type, at, detail: event.runIds.join(',') };
    case 'engine.storage':
      return { type: event.type, at, detail: event.reason };
    case 'task.progress':
      return { type: event.type, at, runId: event.runId, taskId: event.taskId };
    case 'task.interrupted':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.reason };
    case 'task.retrying':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.error };
    case 'task.failed':
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id, detail: event.error };
    default:
      return { type: event.type, at, runId: event.task.runId, taskId: event.task.id };
  }
}

function taskRecord(runId: string, def: TaskDef, order: number, now: number): TaskRecord {
  return {
    id: taskId(runId, def.id),
    runId,
    key: def.id,
    name: def.name ?? def.id,
    action: def.action,
    needs: def.needs,
    state: 'pending',
    priority: def.priority,
    order,
    attempt: 0,
    retry: def.retry,
    continueOnError: def.continueOnError,
    updatedAt: now,
    ...(def.timeoutMs ? { timeoutMs: def.timeoutMs } : {}),
  };
}

function singleTaskWorkflow(spec: SingleTaskSpec): WorkflowDef {
  const action = spec.action;
  const label = action.kind === 'run' ? action.run : action.kind === 'agent' ? `${action.agent}: ${action.prompt}` : action.kind;
  const name = spec.name ?? (label.length > 60 ? `${label.slice(0, 57)}…` : label);
  return {
    name,
    inputs: [],
    tasks: [
      {
        id: 'task',
        name,
        needs: [],
        action,
        retry: { ...DEFAULT_RETRY, max: spec.retries ?? 0 },
        continueOnError: false,
        priority: 0,
        ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
      },
    ],
  };
}

/** A shell task's process group can outlive a crashed owner: stop it before the task runs again. */
function reapProcessGroup(task: TaskRecord): void {
  if (!task.pid || !isProcessAlive(task.pid)) return;
  try {
    process.kill(-task.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
