import { simpleGit } from 'simple-git';
import type { RunHooks } from '../engine/run-hooks.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
import type { RunSource } from '../model/run-delivery.ts';

/**
 * BullMQ mode: records where workers on other machines get the run's files from
 * (the `origin` remote, the commit the run starts from, and the branch tasks push
 * to) in the run's delivery, durably, before its first task. Idempotent: a run that
 * has a source keeps it, so a restarted coordinator never moves its base.
 */
export function runSourceHook(logger: Logger = silentLogger): RunHooks {
  return {
    async prepareRun(run) {
      if (run.delivery?.source) return;
      const git = simpleGit(run.cwd);
      try {
        if (!(await git.checkIsRepo())) return;
        const remote = (await git.remote(['get-url', 'origin']))?.trim();
        if (!remote) return;
        const baseCommit = (await git.revparse(['HEAD'])).trim();
        const branch = run.delivery?.branch ?? `orchestr8/${run.id}`;
        const source: RunSource = { remote, baseCommit, branch };
        return { delivery: { source } };
      } catch (error) {
        // No remote: workers can still run it where its folder exists.
        logger.debug(`run ${run.id}: no git source for remote workers: ${errorMessage(error)}`);
        return;
      }
    },
  };
}
