import * as vscode from 'vscode';
import type { EngineEvent } from '../../core/model/events.ts';
import type { Logger } from '../../core/util/logger.ts';
import { setContext, type EngineHost } from '../engine-host.ts';
import { Debouncer } from '../presenters/debouncer.ts';
import { RunTreeModel, type TreeChange, type TreeNode } from '../presenters/run-tree-model.ts';
import { COMMAND_IDS } from '../commands/command-ids.ts';

export const RUNS_VIEW_ID = 'orchestr8.runs';
/** Engine events are folded in at most this often, so a burst of task events is one refresh. */
const REFRESH_DEBOUNCE_MS = 150;
/** Durations and retry countdowns of live rows tick at this pace. */
const TICK_MS = 1000;
/** Longest wait of start-up chores for the tree's first rows (see `whenFirstRowsShown`). */
const FIRST_ROWS_WAIT_MS = 3000;

/**
 * The runs tree: a thin `TreeDataProvider` over `RunTreeModel` (which holds the data and decides
 * what changed); this file only converts its plain view models into `TreeItem`s.
 */
export class RunsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<TreeNode>;
  private model: RunTreeModel | undefined;
  private readonly debouncer: Debouncer<EngineEvent>;
  private readonly disposables: vscode.Disposable[] = [];
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Runs whose rows are expanded (by id: a new model keeps them), which ticks leave alone. */
  private readonly expandedRuns = new Set<string>();

  /** When the extension began loading (`performance.now()`), for the log line of the first rows of runs. */
  private loadStart: number | undefined;

  constructor(
    private readonly host: EngineHost,
    private readonly logger: Logger,
    loadStart?: number,
  ) {
    this.loadStart = loadStart;
    this.view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.debouncer = new Debouncer(REFRESH_DEBOUNCE_MS, (batch) => this.applyBatch(batch));
    this.disposables.push(
      this.view,
      this.changed,
      this.debouncer,
      host.onEvent((e) => {
        if (e.type !== 'task.progress') this.debouncer.push(e);
      }),
      this.view.onDidExpandElement(({ element }) => {
        if (element.kind === 'run') this.expandedRuns.add(element.runId);
      }),
      this.view.onDidCollapseElement(({ element }) => {
        if (element.kind === 'run') this.expandedRuns.delete(element.runId);
      }),
      host.onDidChangeState(() => this.resetModel()),
      host.onDidReload(() => this.resetModel()),
    );
    this.resetModel();
  }

  /**
   * Resolves once the tree has handed its first rows of the open engine to VS Code, at once when the
   * view is not showing, and after `FIRST_ROWS_WAIT_MS` at most. Start-up chores that query the store
   * (the away summary, pruning) wait for it: on a reload they share the index worker, the extension
   * host's thread and the machine with the tree's first page, which the user is looking at.
   */
  whenFirstRowsShown(): Promise<void> {
    if (!this.view.visible || this.firstRowsShown) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, FIRST_ROWS_WAIT_MS);
      const waiter = () => done();
      this.firstRowsWaiters.push(waiter);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private firstRowsShown = false;
  private firstRowsWaiters: Array<() => void> = [];

  getTreeItem(node: TreeNode): Thenable<vscode.TreeItem> | vscode.TreeItem {
    if (!this.model) return new vscode.TreeItem('');
    return this.model.item(node, Date.now()).then((view) => {
      if (!view) return new vscode.TreeItem('(gone)');
      const item = new vscode.TreeItem(view.label, view.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = node.kind === 'run' ? node.runId : node.kind === 'task' ? node.taskId : `more:${node.runId ?? ''}`;
      item.description = view.description;
      item.tooltip = new vscode.MarkdownString(view.tooltip);
      item.iconPath = new vscode.ThemeIcon(view.icon.id, view.icon.color ? new vscode.ThemeColor(view.icon.color) : undefined);
      item.contextValue = view.contextValue;
      if (node.kind === 'more') item.command = { command: COMMAND_IDS.loadMore, title: 'Load More', arguments: [node] };
      else if (node.kind === 'task')
        item.command = { command: COMMAND_IDS.showLog, title: 'Show Task Log', arguments: [{ runId: node.runId, taskId: node.taskId }] };
      return item;
    });
  }

  /** True while the view's request for the root rows waits for the engine to open (see getChildren). */
  private rootWaiting = false;

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node && !this.model && this.host.state === 'starting') {
      // The view asks as soon as it shows, before the store is open: answered once it is (with a
      // progress bar meanwhile), so the first rows need no second round trip to the workbench, which
      // is busy on a reload.
      this.rootWaiting = true;
      await this.host.whenSettled();
      this.rootWaiting = false;
    }
    const model = this.model;
    if (!model) return [];
    try {
      if (node) return await model.children(node);
      const roots = await model.roots();
      if (this.loadStart !== undefined && model.runCount > 0) {
        // Read by the end-to-end test and docs/benchmarks.md (a reload's time to runs): keep the wording stable.
        // The host's CPU time since it started says what the wall time can't on a busy machine.
        const cpu = process.cpuUsage();
        this.logger.info(
          `tree has ${model.runCount} runs ${(performance.now() - this.loadStart).toFixed(1)} ms after the extension began loading ` +
            `(extension host CPU since it started: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`,
        );
        this.loadStart = undefined;
      }
      setContext('orchestr8.empty', model.isEmpty);
      this.updateTicker();
      this.firstRowsShown = true;
      // After this turn: VS Code asks for the rows' items once it has the nodes.
      const waiters = this.firstRowsWaiters.splice(0);
      if (waiters.length)
        setImmediate(() => {
          for (const w of waiters) w();
        });
      return roots;
    } catch (error) {
      this.logger.error('could not load runs', error);
      return [];
    }
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.model?.parent(node);
  }

  /** Pages in more runs or tasks (the "more" rows). */
  loadMore(node: TreeNode): void {
    if (!this.model || node.kind !== 'more') return;
    this.changed.fire(this.model.loadMore(node));
  }

  /** Shows the tree and selects a run or task row (loading the run's page and tasks as needed). */
  async reveal(target: { runId: string; taskId?: string }): Promise<void> {
    await vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
    const model = this.model;
    if (!model) return;
    if (!model.nodeOf(target)) await model.roots();
    const runNode = model.nodeOf({ runId: target.runId });
    if (runNode && target.taskId) await model.children(runNode);
    const node = model.nodeOf(target);
    if (node) await this.view.reveal(node, { select: true, focus: false, expand: target.taskId ? undefined : true });
  }

  refresh(): void {
    this.resetModel();
  }

  /** The model, for commands that pick from what the tree shows. */
  get data(): RunTreeModel | undefined {
    return this.model;
  }

  private resetModel(): void {
    const engine = this.host.engine;
    this.firstRowsShown = false;
    this.model = engine ? new RunTreeModel(engine, { onRowChanged: (node) => this.redraw(node) }) : undefined;
    this.model?.prefetch();
    this.view.message = this.host.readOnly ? `Read-only: ${this.host.owner ?? 'another process'} runs this workspace’s tasks.` : undefined;
    if (!engine) setContext('orchestr8.empty', false);
    // A root request waiting for the engine answers with the new model's rows itself.
    if (!this.rootWaiting) this.changed.fire(undefined);
  }

  /** Rows whose late answers (a run's spending) came this turn: drawn again together. */
  private redrawing: Set<TreeNode> | undefined;
  private redraw(node: TreeNode): void {
    if (!this.redrawing) {
      this.redrawing = new Set();
      setImmediate(() => {
        const nodes = [...(this.redrawing ?? [])];
        this.redrawing = undefined;
        if (nodes.length) this.changed.fire(nodes);
      });
    }
    this.redrawing.add(node);
  }

  private applyBatch(batch: EngineEvent[]): void {
    if (!this.model) return;
    const change: TreeChange = { root: false, nodes: new Set() };
    for (const event of batch) {
      this.model.apply(event, change);
      if (event.type === 'workflow.removed') for (const id of event.runIds) this.expandedRuns.delete(id);
    }
    if (change.root) this.changed.fire(undefined);
    else if (change.nodes.size) this.changed.fire([...change.nodes]);
    this.updateTicker();
  }

  /** Ticks only while something runs, so an idle window does no work. */
  private updateTicker(): void {
    const live = this.model?.liveNodes() ?? [];
    if (live.length && !this.ticker) {
      this.ticker = setInterval(() => {
        if (!this.model?.liveNodes().length) return this.updateTicker();
        const nodes = this.model.tickNodes(this.expandedRuns);
        if (nodes.length && this.view.visible) this.changed.fire(nodes);
      }, TICK_MS);
    } else if (!live.length && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
