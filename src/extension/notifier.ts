import * as vscode from 'vscode';
import type { EngineEvent } from '../core/model/events.ts';
import type { Logger } from '../core/util/logger.ts';
import type { EngineHost } from './engine-host.ts';
import { Debouncer } from './presenters/debouncer.ts';
import { CompletionToasts } from './presenters/completion-toasts.ts';
import { ToastGrouper, isOutcome } from './presenters/toast-grouping.ts';
import { waitToast } from './presenters/wait-prompts.ts';
import { waitQuestion } from '../core/engine/wait-question.ts';
import { awaySummary, storageToast, taskFailedToast, type ToastView } from './presenters/notification-policy.ts';
import type { Settings } from './settings.ts';

/**
 * Toasts for finished workflows and failed tasks, as chatty as `orchestr8.notifications` says, and
 * the "While you were away" summary of what finished with no window open. A stored notification is
 * marked delivered once this window has handled it (shown, or filtered out by the user's setting), so
 * it is summarised at most once.
 */
export class Notifier implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** Notifications created from this moment on were handled live by this window. */
  private liveSince = Number.POSITIVE_INFINITY;
  private readonly deliver = new Debouncer<true>(500, () => void this.markLiveDelivered());
  /** What reaches the user: one toast per run outcome, a summary for a burst; see `ToastGrouper`. */
  private readonly grouper = new ToastGrouper((view) => this.show(view));
  /** Completion toasts wait briefly for the run's pull request; see `CompletionToasts`. */
  private readonly completions = new CompletionToasts(
    (view, run, kind) => (kind === 'outcome' && isOutcome(run.state) ? this.grouper.outcome(run.id, run.state, view) : this.grouper.other(view)),
    () => this.settings().notifications,
  );

  constructor(
    private readonly host: EngineHost,
    private readonly settings: () => Settings,
    private readonly logger: Logger,
    /** The away summary waits for this (the tree's first rows on a reload), so it does not compete with them. */
    private readonly afterStart: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.disposables.push(
      this.deliver,
      this.completions,
      this.grouper,
      // Before the engine closes (window closing or reloading): save which notifications this window handled.
      host.onWillStop(() => this.flush()),
      host.onEvent((e) => void this.onEvent(e)),
      host.onDidChangeState((state) => {
        if (state === 'ready') void this.summarizeMissed();
      }),
    );
    if (host.state === 'ready') void this.summarizeMissed();
  }

  private async onEvent(event: EngineEvent): Promise<void> {
    // A read-only window follows the owner's events for its views; the owner's window does the telling.
    if (this.host.readOnly) return;
    const level = this.settings().notifications;
    try {
      if (event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled') {
        const engine = this.host.engine;
        const tasks = engine && event.type === 'workflow.failed' ? (await engine.status(event.run.id)).tasks : [];
        this.completions.finished(event.run, tasks);
        this.deliver.push(true);
      } else if (event.type === 'run.delivered') {
        this.completions.delivered(event.run);
      } else if (event.type === 'task.waiting') {
        // Not held by the grouper: a waiting run is stuck until someone answers, and the toast is where they can.
        const engine = this.host.engine;
        if (!engine) return;
        const { run } = await engine.status(event.task.runId);
        this.show(waitToast(run, event.task, await waitQuestion(engine, run, event.task), level));
      } else if (event.type === 'engine.storage') {
        this.show(storageToast(event.state, event.reason));
      } else if (event.type === 'task.failed') {
        const run = await this.host.engine
          ?.status(event.task.runId)
          .then((s) => s.run)
          .catch(() => undefined);
        this.grouper.taskFailed(event.task.runId, run?.single ?? false, taskFailedToast(run, event.task, event.error, level));
        this.deliver.push(true);
      }
    } catch (error) {
      this.logger.error(`could not notify about ${event.type}`, error);
    }
  }

  /** On start: one toast for everything that finished while no window was open, then mark it delivered. */
  private async summarizeMissed(): Promise<void> {
    if (!this.host.engine || this.host.readOnly) return;
    // Now, not once the summary runs: what this window hears from here on it handles live.
    this.liveSince = Date.now();
    await this.afterStart();
    const engine = this.host.engine;
    if (!engine || this.host.readOnly) return;
    try {
      const missed = (await engine.undeliveredNotifications()).filter((n) => n.createdAt < this.liveSince);
      if (!missed.length) return;
      this.logger.info(`${missed.length} notification(s) arrived while no window was open`);
      this.show(awaySummary(missed, this.settings().notifications));
      await engine.markDelivered(missed.map((n) => n.id));
    } catch (error) {
      this.logger.error('could not summarise missed notifications', error);
    }
  }

  private async markLiveDelivered(): Promise<void> {
    const engine = this.host.engine;
    if (!engine || this.host.readOnly) return;
    try {
      const live = (await engine.undeliveredNotifications()).filter((n) => n.createdAt >= this.liveSince);
      if (!live.length) return;
      await engine.markDelivered(live.map((n) => n.id));
      this.logger.info(`marked ${live.length} notification(s) delivered`);
    } catch (error) {
      this.logger.error('could not mark notifications delivered', error);
    }
  }

  /** Shows a toast without waiting for it: toasts stay until dismissed, and events keep coming. */
  private show(view: ToastView | undefined): void {
    if (!view) return;
    const show =
      view.severity === 'error'
        ? vscode.window.showErrorMessage
        : view.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void Promise.resolve(show(view.message, ...view.actions.map((a) => a.title)))
      .then((picked) => {
        const action = view.actions.find((a) => a.title === picked);
        if (action) return vscode.commands.executeCommand(action.command, ...action.args);
      })
      .then(undefined, (error: unknown) => this.logger.error('notification action failed', error));
  }

  /** Marks what this window handled as delivered; awaited on deactivate before the engine closes. */
  async flush(): Promise<void> {
    this.grouper.flush();
    this.deliver.dispose();
    await this.markLiveDelivered();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
