import type { PreparedTask, RunHooks } from '../core/engine/run-hooks.ts';
import type { RunDelivery } from '../core/model/run-delivery.ts';

/**
 * Run hooks that exist only later (the results hooks need VS Code's GitHub session, which can take
 * seconds to come), standing in for them now, so the engine opens without waiting: each call waits
 * for them, then runs them in order as the engine would. Every method is there, as on the results
 * hooks (`GitRunHooks`), so the engine holds a run's tasks for `prepareRun` just as it would with
 * those hooks themselves.
 *
 * The engine commits one `prepareRun`'s folder or delivery before it calls the next hook's; these
 * merge them instead (a later one wins), which is the same for the one hook the window has.
 */
export function deferredHooks(later: Promise<readonly RunHooks[]>): RunHooks {
  return {
    async prepareRun(run, ctx) {
      let cwd: string | undefined;
      let delivery: RunDelivery | undefined;
      for (const hook of await later) {
        const p = await hook.prepareRun?.(run, ctx);
        if (p?.cwd) cwd = p.cwd;
        if (p?.delivery) delivery = { ...delivery, ...p.delivery };
      }
      return cwd || delivery ? { ...(cwd ? { cwd } : {}), ...(delivery ? { delivery } : {}) } : undefined;
    },
    async prepareTask(run, task, ctx) {
      let placed: PreparedTask | undefined;
      for (const hook of await later) {
        const p = await hook.prepareTask?.(run, task, ctx);
        if (p) placed = { ...placed, ...p };
      }
      return placed;
    },
    async taskCompleted(run, task, result, ctx) {
      for (const hook of await later) await hook.taskCompleted?.(run, task, result, ctx);
    },
    async runFinished(run, tasks, ctx) {
      let delivery: RunDelivery | undefined;
      for (const hook of await later) {
        const out = await hook.runFinished?.(run, tasks, ctx);
        if (out?.delivery) delivery = { ...delivery, ...out.delivery };
      }
      return delivery ? { delivery } : undefined;
    },
  };
}
