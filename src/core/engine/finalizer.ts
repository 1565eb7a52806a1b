import type { RunRecord, TaskRecord } from '../model/records.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import type { EngineCore } from './engine-core.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';

/**
 * A run's end, delivered: runs the runFinished hooks (a push, a pull request), merges what
 * they return into the stored run, marks it finalized and announces it with `run.delivered`.
 * A run whose hooks fail stays unfinalized, and the next owner finalizes it again.
 */
export class Finalizer {
  /** runFinished hooks in flight: a CLI owner closes right after its last run ends, and should not cut a push short. */
  private readonly finalizing = new Map<string, Promise<void>>();

  constructor(private readonly core: EngineCore) {}

  start(run: RunRecord, tasks: TaskRecord[]): void {
    const done: Promise<void> = this.finalize(run, tasks).finally(() => {
      if (this.finalizing.get(run.id) === done) this.finalizing.delete(run.id);
    });
    this.finalizing.set(run.id, done);
  }

  /** Resolves once the run's finalization under way (if any) is done, failed ones included. */
  async whenFinalized(runId: string): Promise<void> {
    await this.finalizing.get(runId);
  }

  /** Closing: waits for finalizations under way, at most `graceMs`; the next owner finalizes the rest again. */
  async drain(graceMs: number): Promise<void> {
    if (this.finalizing.size) {
      await Promise.race([Promise.all(this.finalizing.values()), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
  }

  private async finalize(run: RunRecord, tasks: TaskRecord[]): Promise<void> {
    const core = this.core;
    let returned: RunDelivery = {};
    try {
      for (const hook of core.deps.hooks) {
        const out = await hook.runFinished?.(run, tasks, core.deps.hookContext);
        if (out?.delivery) returned = { ...returned, ...out.delivery };
      }
    } catch (error) {
      core.deps.logger.error(`finishing run ${run.id} failed; it will be tried again on the next start`, error);
      return;
    }
    if (core.state === 'closed') return;
    const latest = await core.deps.reads.getRun(run.id);
    // Retried meanwhile: the store says so, or the retry is committed or on its way to disk and
    // the read above was asked before it (it would write the run back as it was).
    if (!latest || latest.state === 'running' || core.active.has(run.id) || core.joining.has(run.id)) return;
    // Merged into what is stored now, not into the record the hooks started from: a delivery
    // recorded meanwhile (recordDelivery from a hook or an adapter) must survive.
    const batch = new Batch();
    moves.deliver(batch, { ...latest, finalized: true }, returned);
    await core.commit(batch).catch((e) => core.fatal(e));
  }
}
