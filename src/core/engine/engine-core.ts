import type { EngineEvent } from '../model/events.ts';
import type { TaskExecutor } from '../runners/task-executor.ts';
import type { StateBackend } from '../store/backend.ts';
import { RowShadow } from '../store/row-shadow.ts';
import { StorageFullError } from '../store/storage-full.ts';
import type { Clock } from '../util/clock.ts';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import type { ActiveRun } from './active-run.ts';
import { Attempts } from './attempts.ts';
import type { EngineApi } from './engine-api.ts';
import { Finalizer } from './finalizer.ts';
import { InputRequests } from './input-requests.ts';
import { RunPauses } from './run-pauses.ts';
import type { Batch } from './moves.ts';
import type { HookContext, RunHooks } from './run-hooks.ts';
import { Scheduler } from './scheduler.ts';
import type { EngineReads } from './state-queries.ts';
import type { TaskLogs } from './task-logs.ts';

/** Lifecycle of an engine; illegal moves throw. */
export type EngineLifecycle = 'running' | 'closing' | 'closed';

/** What the engine's parts are given: the owner's store, its reads and its surroundings. */
export interface CoreDeps {
  store: StateBackend;
  reads: EngineReads;
  logs: TaskLogs;
  executor: TaskExecutor;
  hooks: RunHooks[];
  /** Handed to every hook call. */
  hookContext: HookContext;
  logger: Logger;
  clock: Clock;
  /** The facade, handed to runners that launch sub-tasks. */
  api: EngineApi;
  shutdownGraceMs: number;
  finalizeGraceMs: number;
  /** How long a `needs-input` request waits for an answer before it is denied; 0: forever. */
  inputTimeoutMs: number;
}

/**
 * The state the engine's parts share (active runs, lifecycle, the event emitter) and the one
 * commit every change goes through. Each part reaches its siblings through here, so the
 * facade only wires them and forwards commands.
 */
export class EngineCore {
  readonly active = new Map<string, ActiveRun>();
  /** Runs being launched or resumed: their batch is not durable yet, so they are not active yet. */
  readonly starting = new Map<string, Promise<void>>();
  /**
   * The same runs' in-memory state: the scheduler may decide their tasks' starts meanwhile (the
   * start records follow the launch in the journal, and an attempt executes only once its start is durable).
   */
  readonly joining = new Map<string, ActiveRun>();
  /** Rows as last journaled: a batch records what changed in a row, not the whole row again. */
  private readonly shadow = new RowShadow();
  readonly events: Emitter<EngineEvent>;
  readonly scheduler: Scheduler;
  readonly attempts: Attempts;
  readonly finalizer: Finalizer;
  readonly inputs: InputRequests;
  readonly pauses: RunPauses;
  state: EngineLifecycle = 'running';
  failure: Error | undefined;

  constructor(readonly deps: CoreDeps) {
    this.events = new Emitter((error) => deps.logger.error('event listener failed', error));
    this.scheduler = new Scheduler(this);
    this.attempts = new Attempts(this);
    this.finalizer = new Finalizer(this);
    this.inputs = new InputRequests(this);
    this.pauses = new RunPauses(this);
  }

  /**
   * Makes the batch durable, then lets the engine's own view follow (runs join and leave the
   * active set), then tells listeners, then lets the attempts whose start it carries begin
   * (`Batch.durable`): in that order, so neither the engine's answers, its events nor its
   * runners ever get ahead of the disk.
   */
  async commit(batch: Batch): Promise<void> {
    try {
      await this.commitNow(batch);
    } catch (error) {
      batch.settle(error);
      throw error;
    }
    batch.settle();
  }

  private async commitNow(batch: Batch): Promise<void> {
    if (batch.empty) return;
    let firstSeq = 0;
    // Compacted right before the append (which takes them synchronously): the shadow stays in journal order.
    const durable = this.deps.store.commit(batch.records.map((record) => this.shadow.compact(record))).then((seq) => void (firstSeq = seq));
    for (const active of batch.finishing) active.finished = durable;
    for (const active of batch.starting) {
      this.starting.set(active.run.id, durable);
      this.joining.set(active.run.id, active);
    }
    try {
      await durable;
    } finally {
      for (const active of batch.starting) {
        this.starting.delete(active.run.id);
        this.joining.delete(active.run.id);
      }
    }
    for (const active of batch.starting) this.active.set(active.run.id, active);
    for (const active of batch.finishing) {
      if (this.active.get(active.run.id) !== active) continue;
      this.active.delete(active.run.id);
      this.shadow.forgetRun(active.run.id);
    }
    for (const [i, event] of batch.events.entries()) {
      event.seq = firstSeq + batch.eventRecords[i]!; // the batch's own objects: nobody has seen them yet
      this.events.fire(event);
    }
    batch.runAfterCommit();
  }

  /**
   * The run's in-memory state once whatever is on its way to disk for it (its launch or resume,
   * its finish) is durable: commands neither act on nor answer from a change that could be lost.
   */
  async settledActive(runId: string): Promise<ActiveRun | undefined> {
    await this.starting.get(runId)?.catch(() => undefined);
    const finished = this.active.get(runId)?.finished;
    if (finished) await finished.catch(() => undefined);
    this.assertRunning();
    return this.active.get(runId);
  }

  assertRunning(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'running') throw new Error(`the engine is ${this.state}`);
  }

  /**
   * For commands people give: refused at once while storage is paused, rather than left
   * waiting for space. The engine's own bookkeeping (a task finishing) waits instead.
   */
  assertWritable(): void {
    this.assertRunning();
    const storage = this.deps.store.storage;
    if (storage.state === 'paused') throw new StorageFullError(storage.reason);
  }

  /** The journal cannot take writes: stop dispatching; what is on disk stays correct. */
  fatal(error: unknown): void {
    if (this.failure || this.state === 'closed') return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.deps.logger.error('engine stopped: state can no longer be saved', error);
    this.attempts.abortAll('shutdown');
  }
}
