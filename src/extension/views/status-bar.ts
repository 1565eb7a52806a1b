import * as vscode from 'vscode';
import type { Logger } from '../../core/util/logger.ts';
import type { EngineHost } from '../engine-host.ts';
import { Debouncer } from '../presenters/debouncer.ts';
import { ActiveTaskTracker, statusBarView } from '../presenters/task-counts.ts';
import { RUNS_VIEW_ID } from './runs-tree.ts';

/** Running/queued counts in the status bar; hidden when idle; a click shows the runs tree. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('orchestr8.status', vscode.StatusBarAlignment.Left, 50);
  private tracker = new ActiveTaskTracker();
  /** Why the engine's storage is paused (a full disk), while it is. */
  private pausedReason: string | undefined;
  private readonly render = new Debouncer<true>(100, () => this.update());
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: EngineHost,
    private readonly logger: Logger,
  ) {
    this.item.name = 'Orchestr8';
    this.item.command = `${RUNS_VIEW_ID}.focus`;
    this.disposables.push(
      this.item,
      this.render,
      host.onEvent((e) => {
        if (e.type === 'engine.storage') {
          this.pausedReason = e.state === 'paused' ? e.reason : undefined;
          this.update();
        } else if (this.tracker.apply(e)) this.render.push(true);
      }),
      host.onDidChangeState(() => void this.seed()),
      host.onDidReload(() => void this.seed()),
    );
    void this.seed();
  }

  /** Counts what is unfinished in the store once; events keep it current after that. */
  private async seed(): Promise<void> {
    const engine = this.host.engine;
    const tracker = new ActiveTaskTracker();
    this.tracker = tracker;
    this.pausedReason = undefined; // a newly opened engine starts unpaused and says when it pauses
    if (engine) {
      try {
        const { runs } = await engine.list({ states: ['running', 'paused'], limit: 1000 });
        const statuses = await Promise.all(runs.map((r) => engine.status(r.id)));
        // Events that arrived during the queries already moved `tracker`; seeding only fills in the rest.
        tracker.seed(statuses.flatMap((s) => s.tasks).filter((t) => !tracker.has(t.id)));
      } catch (error) {
        this.logger.error('could not count running tasks', error);
      }
    }
    this.update();
  }

  private update(): void {
    const view = statusBarView(this.tracker.counts(), this.host.readOnly, this.pausedReason);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (view.visible) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
