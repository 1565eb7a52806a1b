import type { PauseRun } from '../runners/task-runner.ts';
import type { TaskRecord } from '../model/records.ts';
import type { ActiveRun } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import { ConflictError } from './errors.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';
import { formatDuration } from '../util/text-format.ts';

/** How long a run waits after a quota or overload answer that names no `retry-after`. */
export const QUOTA_BACKOFF_MS = 60_000;

/**
 * Paused runs: a run pauses when an attempt reports the API cannot serve it now (usage limit,
 * credit, overload after the SDK's retries) or when the user pauses it; none of its tasks starts
 * until it resumes, by itself at `pause.until` or by hand. Running agents stop after their turn.
 */
export class RunPauses {
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(private readonly core: EngineCore) {}

  /** An attempt stopped for `error`: it is queued to resume later; its run pauses (unless it is already). */
  hold(active: ActiveRun, batch: Batch, task: TaskRecord, error: PauseRun, now: number): void {
    const { logs, logger } = this.core.deps;
    moves.hold(batch, active, task, now, error.message);
    // Stopped because its run is paused (or was, and was resumed meanwhile): only queued again.
    if (active.run.state === 'paused' || error.why === 'run-paused') {
      batch.afterCommit(() =>
        logs.note(active.run.id, task.key, `--- attempt ${task.attempt} held: the run is paused · ${new Date(now).toISOString()} ---\n`, logger),
      );
      return;
    }
    const wait = error.retryAfterMs ?? QUOTA_BACKOFF_MS;
    this.pause(active, batch, error.message, now, now + wait);
    batch.afterCommit(() =>
      logs.note(
        active.run.id,
        task.key,
        `--- run paused: ${error.message} · trying again in ${formatDuration(wait)} · ${new Date(now).toISOString()} ---\n`,
        logger,
      ),
    );
  }

  /** The run pauses (until `until`, or until resumed by hand). */
  pause(active: ActiveRun, batch: Batch, reason: string, now: number, until?: number): void {
    if (active.run.state !== 'running') throw new ConflictError(`run ${active.run.id} is ${active.run.state}; nothing to pause`);
    moves.pauseRun(batch, active, reason, now, until);
    batch.afterCommit(() => this.arm(active));
  }

  /** Arms the resume timer of a paused run (also after a restart). */
  arm(active: ActiveRun): void {
    const until = active.run.pause?.until;
    this.timers.get(active.run.id)?.cancel();
    this.timers.delete(active.run.id);
    if (active.run.state !== 'paused' || until === undefined) return;
    const { clock } = this.core.deps;
    this.timers.set(
      active.run.id,
      clock.setTimeout(
        () => {
          this.timers.delete(active.run.id);
          if (active.run.state !== 'paused' || active.run.pause?.until !== until || this.core.state !== 'running') return;
          this.resume(active).catch((error) => this.core.fatal(error));
        },
        Math.max(0, until - clock.now()),
      ),
    );
  }

  /** A paused run goes on: what it held back is dispatched again. */
  async resume(active: ActiveRun): Promise<void> {
    if (active.run.state !== 'paused') throw new ConflictError(`run ${active.run.id} is ${active.run.state}, not paused`);
    this.timers.get(active.run.id)?.cancel();
    this.timers.delete(active.run.id);
    const batch = new Batch();
    moves.unpauseRun(batch, active);
    await this.core.commit(batch);
    this.core.scheduler.release(active);
    this.core.scheduler.pump();
  }

  /** Closing: no paused run resumes by itself any more (the next owner arms it again). */
  cancelTimers(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
