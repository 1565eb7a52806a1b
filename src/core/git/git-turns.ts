import type { Logger } from '../util/logger.ts';
import { catchUpWorktree, clearStaleIndexLock } from './task-worktrees.ts';

/**
 * One git operation at a time per worktree (git's index lock) and one publish per run, each
 * worktree's first turn in this process clearing what a killed git left there.
 */
export class GitTurns {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly recovered = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** Runs `fn` once everything queued under `key` before it has settled; its result or error is the caller's. */
  serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    // Only the queue's own link: the caller of `serial` gets (and handles) the error through `next`.
    const settled = next.catch(() => {});
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  /**
   * Once per run worktree per process, before anything runs git in it: what a killed owner left
   * there goes (its git's index lock), and a checkout it left behind its branch is brought up to
   * it (see catchUpWorktree). Not counted as done while that fails: nothing may commit there first.
   */
  async recover(worktree: string): Promise<void> {
    if (this.recovered.has(worktree)) return;
    if (await clearStaleIndexLock(worktree).catch(() => false)) this.logger.warn(`${worktree}: removed the index lock a killed git left`);
    if (await catchUpWorktree(worktree)) this.logger.warn(`${worktree}: brought up to its branch, which a killed owner had moved in a merge`);
    this.recovered.add(worktree);
  }
}
