import { systemClock, type Clock } from '../../core/util/clock.ts';
import type { Disposable } from '../../core/util/disposable.ts';
import type { ToastView } from './notification-policy.ts';

/** A run's final state, as a toast counts it. */
export type OutcomeState = 'completed' | 'failed' | 'cancelled';

/** A run state that ends it (a paused run is not an outcome: its toast is not grouped). */
export function isOutcome(state: string): state is OutcomeState {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

/** How long toasts are held to see what else arrives, and when a batch becomes one summary. */
export interface ToastGroupingOptions {
  /** Quiet time after the latest toast before the held ones are shown. */
  settleMs: number;
  /** Held at most this long after the first, so a steady stream of finishes still says something. */
  maxHoldMs: number;
  /** This many toasts (or more) in one batch are shown as one summary instead. */
  summaryAt: number;
}

export const DEFAULT_TOAST_GROUPING: ToastGroupingOptions = { settleMs: 800, maxHoldMs: 4000, summaryAt: 4 };

type Held =
  | { kind: 'outcome'; runId: string; state: OutcomeState; view: ToastView }
  | { kind: 'task-failed'; runId: string; view: ToastView }
  | { kind: 'other'; view: ToastView };

/**
 * Decides which toasts reach the user, so their attention goes to outcomes, not to each event:
 *
 * - a task failure and its run's failure are one toast (the run's, which names the task); a
 *   single-task run's task failure is never a toast of its own;
 * - toasts that arrive close together are held briefly, and a batch of `summaryAt` or more is one
 *   summary ("12 runs finished: 10 succeeded, 2 failed") with "Show Runs", not a toast each.
 *
 * Holds no `vscode` types: `show` is the edge.
 */
export class ToastGrouper implements Disposable {
  private held: Held[] = [];
  private firstAt = 0;
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly show: (view: ToastView) => void,
    private readonly options: ToastGroupingOptions = DEFAULT_TOAST_GROUPING,
    private readonly clock: Clock = systemClock,
  ) {}

  /** A run reached a final state; `view` is its toast (undefined when the user's level hides it). */
  outcome(runId: string, state: OutcomeState, view: ToastView | undefined): void {
    if (view) this.hold({ kind: 'outcome', runId, state, view });
  }

  /** A task failed for good. A single-task run's failure is told by its run's toast alone. */
  taskFailed(runId: string, single: boolean, view: ToastView | undefined): void {
    if (view && !single) this.hold({ kind: 'task-failed', runId, view });
  }

  /** Any other toast (a pull request opened later): shown in its turn, counted in a summary. */
  other(view: ToastView | undefined): void {
    if (view) this.hold({ kind: 'other', view });
  }

  /** Shows what is held now (before disposal, and for tests). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.held;
    this.held = [];
    const runsWithOutcome = new Set(batch.flatMap((h) => (h.kind === 'outcome' ? [h.runId] : [])));
    // The run's own toast names the failed task and offers its log: the task's toast would repeat it.
    const toasts = batch.filter((h) => !(h.kind === 'task-failed' && runsWithOutcome.has(h.runId)));
    if (toasts.length >= this.options.summaryAt) this.show(summaryToast(toasts));
    else for (const h of toasts) this.show(h.view);
  }

  private hold(item: Held): void {
    const now = this.clock.now();
    if (!this.held.length) this.firstAt = now;
    this.held.push(item);
    this.timer?.cancel();
    const due = Math.min(this.options.settleMs, this.firstAt + this.options.maxHoldMs - now);
    this.timer = this.clock.setTimeout(() => this.flush(), Math.max(0, due));
  }

  dispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.held = [];
  }
}

/** "12 runs finished: 10 succeeded, 2 failed; 1 task failed in a run still going." */
function summaryToast(toasts: readonly Held[]): ToastView {
  const outcomes = toasts.filter((h): h is Extract<Held, { kind: 'outcome' }> => h.kind === 'outcome');
  const count = (state: OutcomeState) => outcomes.filter((o) => o.state === state).length;
  const parts: string[] = [];
  if (outcomes.length) {
    const states = [
      [count('completed'), 'succeeded'],
      [count('failed'), 'failed'],
      [count('cancelled'), 'cancelled'],
    ] as const;
    parts.push(
      `${plural(outcomes.length, 'run')} finished: ${states
        .filter(([n]) => n > 0)
        .map(([n, what]) => `${n} ${what}`)
        .join(', ')}`,
    );
  }
  const taskFailures = toasts.filter((h) => h.kind === 'task-failed').length;
  if (taskFailures) parts.push(`${plural(taskFailures, 'task')} failed in ${taskFailures === 1 ? 'a run' : 'runs'} still going`);
  const others = toasts.filter((h) => h.kind === 'other').length;
  if (others) parts.push(`${plural(others, 'pull request')} opened`);
  const failed = count('failed') + taskFailures > 0;
  return {
    severity: failed ? 'error' : 'info',
    message: `Orchestr8: ${parts.join('; ')}.`,
    actions: [{ title: 'Show Runs', command: 'orchestr8.runs.focus', args: [] }],
  };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
