import type { TaskRecord } from '../model/records.ts';
import { isProcessAlive } from '../store/state-lock.ts';
import { activeRun, type ActiveRun } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import { Batch } from './moves.ts';

/**
 * After open: re-queue (or, past the interruption bound, fail) what a dead owner left running,
 * resume unfinished runs, finish interrupted finalizations.
 */
export async function recover(core: EngineCore): Promise<void> {
  const { clock, executor, store } = core.deps;
  const now = clock.now();
  const batch = new Batch();
  const previous = store.lock?.previous;
  const reattach: [ActiveRun, TaskRecord][] = [];
  // Known before the index has loaded the history, when the store could open in two phases.
  const { runs } = await store.activeState();
  for (const { run, tasks } of runs) {
    if (run.state !== 'running' && run.state !== 'paused') continue;
    const active = activeRun(run, tasks);
    // Already durable as running; nothing else runs before open returns.
    core.active.set(run.id, active);
    for (const task of tasks) {
      if (task.state === 'running' && executor.outlivesEngine) {
        reattach.push([active, task]);
      } else if (task.state === 'running') {
        reapProcessGroup(task);
        core.attempts.interrupt(active, batch, task, `the engine running it (pid ${task.owner ?? previous?.pid ?? '?'}) stopped`, now, true);
      } else if (task.state === 'queued') {
        core.scheduler.enqueue(active, task, batch, now);
      } else if (task.state === 'waiting') {
        core.attempts.armWaitTimeout(active, task, task.timeoutMs);
      } else if (task.state === 'needs-input') {
        core.inputs.armTimeout(active, task);
      }
    }
    core.scheduler.progress(active, batch, now);
  }
  if (!batch.empty) await core.commit(batch);
  for (const [active, task] of reattach) core.attempts.reattach(active, task);
  // Finished before the open (a run this recovery finishes is finalized by its own batch).
  for (const { run, tasks } of runs) {
    if (run.state !== 'running' && run.state !== 'paused' && run.finalized === false) core.finalizer.start(run, tasks);
  }
  for (const active of core.active.values()) {
    core.pauses.arm(active);
    void core.scheduler.prepare(active);
  }
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
