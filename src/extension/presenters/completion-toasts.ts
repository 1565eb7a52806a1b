import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import { pullRequestToast, workflowToast, type NotificationLevel, type ToastView } from './notification-policy.ts';
import { pullRequestUrl } from './run-links.ts';

/**
 * How long a completion toast waits for the run's finalization (the push and the pull request)
 * so that it can offer "Open Pull Request". A push and a GitHub call usually take a few seconds;
 * one toast that comes that much later, with its button, is what a user expects. Past this, the
 * completion is shown without it and the pull request gets a toast of its own when it arrives.
 */
export const DELIVERY_WAIT_MS = 5000;

/**
 * Decides when a finished run's toast is shown and with what, from the engine's events: at once
 * unless the run is still being finalized (`finalized: false`); then on its `run.delivered` event
 * from finalization, or after `waitMs`. A pull request that arrives after the toast went out gets a
 * second toast ("Pull request opened"), so the user is never left without the button. Holds no
 * `vscode` types: `show` is the edge.
 */
export class CompletionToasts implements Disposable {
  private readonly waiting = new Map<string, { tasks: readonly TaskRecord[]; timer: ReturnType<typeof setTimeout> }>();
  /** Runs whose completion toast went out without a pull request while one might still come. */
  private readonly shownWithoutPr = new Set<string>();

  constructor(
    /** `kind` says whether the toast is the run's outcome or the later pull-request one. */
    private readonly show: (view: ToastView | undefined, run: RunRecord, kind: 'outcome' | 'pull-request') => void,
    private readonly level: () => NotificationLevel,
    private readonly waitMs = DELIVERY_WAIT_MS,
  ) {}

  /** A run reached a final state (`workflow.completed` / `failed` / `cancelled`). */
  finished(run: RunRecord, tasks: readonly TaskRecord[]): void {
    if (run.state !== 'completed' || run.finalized !== false || pullRequestUrl(run)) {
      this.show(workflowToast(run, tasks, this.level()), run, 'outcome');
      return;
    }
    this.cancel(run.id);
    const timer = setTimeout(() => {
      this.waiting.delete(run.id);
      this.shownWithoutPr.add(run.id);
      this.show(workflowToast(run, tasks, this.level()), run, 'outcome');
    }, this.waitMs);
    this.waiting.set(run.id, { tasks, timer });
  }

  /** `run.delivered`: what the run delivered changed and is durable. */
  delivered(run: RunRecord): void {
    const waiting = this.waiting.get(run.id);
    if (waiting && (run.finalized || pullRequestUrl(run))) {
      this.cancel(run.id);
      this.show(workflowToast(run, waiting.tasks, this.level()), run, 'outcome');
    } else if (this.shownWithoutPr.has(run.id) && (run.finalized || pullRequestUrl(run))) {
      this.shownWithoutPr.delete(run.id);
      this.show(pullRequestToast(run, this.level()), run, 'pull-request');
    }
  }

  private cancel(runId: string): void {
    const waiting = this.waiting.get(runId);
    if (waiting) clearTimeout(waiting.timer);
    this.waiting.delete(runId);
  }

  dispose(): void {
    for (const id of [...this.waiting.keys()]) this.cancel(id);
    this.shownWithoutPr.clear();
  }
}
