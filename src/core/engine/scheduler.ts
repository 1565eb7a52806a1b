import type { TaskRecord } from '../model/records.ts';
import { isRunActive } from '../model/task-state.ts';
import { deriveRunState, readiness } from '../scheduler/run-progress.ts';
import { StorageFullError } from '../store/storage-full.ts';
import type { StorageState } from '../store/storage-full.ts';
import { Heap } from '../util/heap.ts';
import { errorMessage } from '../util/logger.ts';
import type { ActiveRun, QueueEntry } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';

/**
 * Which task starts next: moves a run's pending tasks as their needs are decided, keeps the
 * ready queue (priority, then first come), holds tasks back per run (concurrency limit, run
 * not prepared yet) and while storage is paused, and starts attempts while slots are free.
 */
export class Scheduler {
  private readonly queue = new Heap<QueueEntry>((a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq));
  private readonly retryTimers = new Set<{ cancel(): void }>();
  private queueSeq = 0;
  private storagePausedAt = 0;

  constructor(private readonly core: EngineCore) {}

  /** Moves pending tasks whose needs are decided, and finishes the run when nothing is left. */
  progress(active: ActiveRun, batch: Batch, now: number): void {
    if (!isRunActive(active.run.state)) return; // finished already; its batch is on the way to disk
    for (let changed = true; changed; ) {
      changed = false;
      for (const task of active.tasks.values()) {
        if (task.state !== 'pending') continue;
        const r = readiness(task, active.tasks);
        if (r.kind === 'blocked') continue;
        changed = true;
        if (r.kind === 'skip') moves.skip(batch, active, task, now, r.reason);
        else this.enqueue(active, moves.queue(batch, active, task, now), batch, now);
      }
    }
    const state = deriveRunState(active.tasks.values());
    if (state === 'running') return;
    const finishing = this.core.deps.hooks.some((h) => h.runFinished);
    const tasks = moves.finishRun(batch, active, state, now, finishing);
    if (finishing) batch.afterCommit(() => this.core.finalizer.start(active.run, tasks));
  }

  /** A ready task: wait tasks start waiting at once; others join the dispatch queue. */
  enqueue(active: ActiveRun, task: TaskRecord, batch: Batch, now: number): void {
    if (task.action.kind === 'wait') {
      const waiting = moves.awaitSignal(batch, active, task, now);
      this.core.attempts.armWaitTimeout(active, waiting, waiting.timeoutMs);
      batch.afterCommit(() => void this.core.attempts.noteWaiting(active, waiting));
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
    const timer = this.core.deps.clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push(entry);
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  /**
   * Starts queued tasks while the executor has slots, highest priority first, within each run's
   * own limit. Given the batch about to be committed (a completion, a launch), the starts go in
   * it: one fsync between a task's end and its dependents' start instead of two in a row.
   */
  pump(batch?: Batch): void {
    const core = this.core;
    if (core.state !== 'running' || core.failure || core.deps.store.storage.state === 'paused') return;
    let slots = core.deps.executor.freeSlots() - core.attempts.handingOver;
    while (slots > 0) {
      const entry = this.queue.pop();
      if (!entry) return;
      // A run whose launch or resume is being written (or is in `batch`) may have its tasks' starts decided: they follow it in the journal.
      const active = core.active.get(entry.runId) ?? core.joining.get(entry.runId) ?? batch?.startingRun(entry.runId);
      const task = active?.tasks.get(entry.key);
      if (!active || !task || task.state !== 'queued') continue; // stale: cancelled, or re-queued under a newer entry
      if (!active.prepared || active.run.state === 'paused' || (active.run.concurrency && active.running >= active.run.concurrency)) {
        active.held.push(entry);
        continue;
      }
      core.attempts.start(active, task, batch);
      slots--;
    }
  }

  /** A slot of the run came free: what it held back may be dispatched again. */
  release(active: ActiveRun): void {
    if (active.held.length) {
      for (const entry of active.held.splice(0)) this.queue.push(entry);
    }
  }

  /**
   * A run launched or resumed with no prepareRun hook has nothing to wait for: its tasks may
   * start in the batch that launches it.
   */
  preparedAtOnce(active: ActiveRun): void {
    if (!this.core.deps.hooks.some((hook) => hook.prepareRun)) active.prepared = true;
  }

  /** Runs the run's prepareRun hooks (a git worktree); its tasks may start once they are done, or fail if they throw. */
  async prepare(active: ActiveRun): Promise<void> {
    const core = this.core;
    try {
      for (const hook of core.deps.hooks) {
        const prepared = await hook.prepareRun?.(active.run, core.deps.hookContext);
        if (prepared && (prepared.cwd || prepared.delivery)) {
          const batch = new Batch();
          moves.deliver(batch, { ...active.run, ...(prepared.cwd ? { cwd: prepared.cwd } : {}) }, prepared.delivery ?? {}, active);
          await core.commit(batch);
        }
      }
    } catch (error) {
      const now = core.deps.clock.now();
      const batch = new Batch();
      for (const task of active.tasks.values()) {
        if (task.state === 'queued') moves.fail(batch, active, task, now, `could not prepare the run: ${errorMessage(error)}`);
      }
      this.progress(active, batch, now);
      await core.commit(batch).catch((e) => core.fatal(e));
      return;
    }
    active.prepared = true;
    for (const entry of active.held.splice(0)) this.queue.push(entry);
    this.pump();
  }

  /** The journal paused on a full disk, or wrote again: say so; queued attempts start once it has. */
  storageChanged(state: StorageState): void {
    const { logger } = this.core.deps;
    if (state.state === 'paused') {
      this.storagePausedAt = state.since;
      logger.error(`${new StorageFullError(state.reason).message} (running tasks go on; their results are saved when space returns)`);
      this.core.events.fire({ type: 'engine.storage', state: 'paused', reason: state.reason });
      return;
    }
    const reason = `writes succeed again after ${Math.round((Date.now() - this.storagePausedAt) / 1000)} s; work resumes`;
    logger.info(`storage: ${reason}`);
    this.core.events.fire({ type: 'engine.storage', state: 'resumed', reason });
    this.pump();
  }

  /** Closing: no retry fires any more. */
  cancelTimers(): void {
    for (const timer of this.retryTimers) timer.cancel();
  }
}
