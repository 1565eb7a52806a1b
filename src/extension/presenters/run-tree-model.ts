import type { EngineApi, UsageTotals } from '../../core/engine/engine-api.ts';
import { isTaskTransition, type EngineEvent } from '../../core/model/events.ts';
import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { waitQuestion } from '../../core/engine/wait-question.ts';
import { presentRun, presentTask, runProgress, dagOrder, usageText, type TreeItemView } from './tree-items.ts';
import { runIdOf } from '../../core/util/ids.ts';

/** Rows of the runs tree. Node objects are kept per id so VS Code can match refreshes to rows. */
export type RunNode = { readonly kind: 'run'; readonly runId: string };
export type TaskNode = { readonly kind: 'task'; readonly runId: string; readonly taskId: string };
/** "Load more…": at the root it pages in older runs; under a run it shows more of its tasks. */
export type MoreNode = { readonly kind: 'more'; readonly runId?: string; readonly remaining: number };
export type TreeNode = RunNode | TaskNode | MoreNode;

/** Which rows an event batch touched; `root` means the list of runs itself changed. */
export interface TreeChange {
  root: boolean;
  nodes: Set<TreeNode>;
}

export type TreeEngine = Pick<EngineApi, 'list' | 'status' | 'usage' | 'result'>;

export interface RunTreeOptions {
  /** Runs per page of the root list. */
  pageSize?: number;
  /** Tasks shown under a run before a "more" row. */
  taskPageSize?: number;
  /**
   * A row to draw again: a run's spending came after the row was drawn without it (or changed).
   * Rows never wait for it, so the first page shows with one query instead of one per run.
   */
  onRowChanged?: (node: TreeNode) => void;
}

interface RunEntry {
  run: RunRecord;
  node: RunNode;
  /** Undefined until the run is expanded (children load lazily) or an event brought them. */
  tasks?: Map<string, TaskRecord>;
  taskNodes: Map<string, TaskNode>;
  shownTasks: number;
  /** The run's spending as last answered; its row shows it while a fresher answer is asked. */
  usage?: UsageTotals;
  /** Bumped by every event of the run: an answer asked at an older generation is asked again. */
  usageGeneration: number;
  /** The generation `usage` answers for (undefined: never asked). */
  usageAnswers?: number;
  usageAsking?: boolean;
}

/**
 * The tree's data: pages of runs (newest first) from `engine.list`, each run's tasks loaded only when
 * it is expanded, and everything kept current from engine events without re-querying. Holds no
 * `vscode` types, so it is tested in plain Node against a real engine.
 */
export class RunTreeModel {
  private readonly entries = new Map<string, RunEntry>();
  /** Ids of the root rows in display order (newest first). */
  private order: string[] = [];
  private total = 0;
  private pages = 1;
  private loaded = false;
  /** A load of the root rows started by `prefetch()` that no `roots()` has taken yet. */
  private prefetched: Promise<void> | undefined;
  private readonly pageSize: number;
  private readonly taskPageSize: number;
  private readonly onRowChanged: ((node: TreeNode) => void) | undefined;

  constructor(
    private readonly engine: TreeEngine,
    options: RunTreeOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 50;
    this.taskPageSize = options.taskPageSize ?? 200;
    this.onRowChanged = options.onRowChanged;
  }

  /** True once the first page is loaded and there are no runs at all (drives the welcome view). */
  get isEmpty(): boolean {
    return this.loaded && this.total === 0;
  }

  /** Runs in the store, by the last `list` plus launches and removals since. */
  get runCount(): number {
    return this.total;
  }

  /**
   * Starts loading the root rows now, before the view asks for them: the view asks only after the
   * change event has made a round trip to the workbench, which on a window (re)load is busy, so the
   * query and that trip overlap instead of following each other. The next `roots()` takes this load.
   */
  prefetch(): void {
    this.prefetched ??= this.loadRoots();
    // A failure is reported by the `roots()` that takes it.
    this.prefetched.catch(() => {});
  }

  async roots(): Promise<TreeNode[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    await (prefetched ?? this.loadRoots());
    // From the rows as they are now: events that arrived since the load are already folded in.
    const nodes: TreeNode[] = this.order.map((id) => this.entries.get(id)!.node);
    const remaining = this.total - this.order.length;
    if (remaining > 0) nodes.push({ kind: 'more', remaining });
    return nodes;
  }

  private async loadRoots(): Promise<void> {
    const page = await this.engine.list({ limit: this.pageSize * this.pages });
    this.loaded = true;
    this.total = page.total;
    // Newest first, whatever order the store hands them in.
    const runs = [...page.runs].sort((a, b) => b.createdAt - a.createdAt);
    this.order = runs.map((r) => r.id);
    for (const run of runs) {
      const entry = this.entries.get(run.id);
      if (entry) entry.run = run;
      else this.entries.set(run.id, { run, node: { kind: 'run', runId: run.id }, taskNodes: new Map(), shownTasks: this.taskPageSize, usageGeneration: 0 });
    }
    // Forget runs that fell off the loaded pages so a long session doesn't keep all of history.
    const keep = new Set(this.order);
    for (const id of [...this.entries.keys()]) if (!keep.has(id)) this.entries.delete(id);
    // Running runs show "2/5 tasks" from the start; there are few of them, so their tasks are worth a query.
    await Promise.all(runs.filter((r) => r.state === 'running').map((r) => this.loadTasks(this.entries.get(r.id)!)));
  }

  async children(node: TreeNode): Promise<TreeNode[]> {
    if (node.kind !== 'run') return [];
    const entry = this.entries.get(node.runId);
    if (!entry) return [];
    const tasks = entry.tasks ?? (await this.loadTasks(entry));
    const ordered = dagOrder([...tasks.values()]);
    const shown = ordered.slice(0, entry.shownTasks).map((t) => this.taskNode(entry, t.id));
    if (ordered.length > entry.shownTasks) {
      return [...shown, { kind: 'more', runId: entry.run.id, remaining: ordered.length - entry.shownTasks }];
    }
    return shown;
  }

  /** Pages in more runs (root "more" row) or more tasks of one run. Returns the node to refresh. */
  loadMore(node: MoreNode): TreeNode | undefined {
    if (node.runId) {
      const entry = this.entries.get(node.runId);
      if (!entry) return undefined;
      entry.shownTasks += this.taskPageSize;
      return entry.node;
    }
    this.pages++;
    return undefined;
  }

  /** The run row above a task row (or a run's "more" row); undefined for root rows. */
  parent(node: TreeNode): RunNode | undefined {
    if (node.kind === 'run' || (node.kind === 'more' && !node.runId)) return undefined;
    return this.entries.get(node.runId!)?.node;
  }

  /** The row of a run or task, if it is loaded; for `TreeView.reveal`. */
  nodeOf(target: { runId: string; taskId?: string }): TreeNode | undefined {
    const entry = this.entries.get(target.runId);
    if (!entry) return undefined;
    if (!target.taskId) return entry.node;
    return entry.tasks?.has(target.taskId) ? this.taskNode(entry, target.taskId) : undefined;
  }

  task(taskId: string): TaskRecord | undefined {
    return this.entries.get(runIdOf(taskId))?.tasks?.get(taskId);
  }

  /** The row for a node. Agent tasks ask the engine for their token use, so this is async. */
  async item(node: TreeNode, now: number): Promise<TreeItemView | undefined> {
    if (node.kind === 'more') {
      return {
        label: node.runId ? `${node.remaining} more tasks…` : `Load ${Math.min(node.remaining, this.pageSize)} more runs (${node.remaining} older)…`,
        description: '',
        tooltip: node.runId ? 'Show more of this run’s tasks' : 'Show older runs',
        icon: { id: 'ellipsis' },
        contextValue: 'more',
        collapsible: false,
      };
    }
    const entry = this.entries.get(node.runId);
    if (!entry) return undefined;
    if (node.kind === 'run') {
      const tasks = entry.tasks ? [...entry.tasks.values()] : undefined;
      // Unexpanded runs are asked too: spending is what a collapsed row most needs to show. Drawn with
      // what is known now, and again once the answer differs (see onRowChanged).
      const usage = !tasks || tasks.some((t) => t.action.kind === 'agent') ? this.knownUsage(entry) : undefined;
      return presentRun(entry.run, tasks ? runProgress(tasks) : undefined, now, usage);
    }
    const task = entry.tasks?.get(node.taskId);
    if (!task) return undefined;
    let usage: UsageTotals | undefined;
    if (task.action.kind === 'agent' && task.attempt > 0) usage = await this.engine.usage(task.id).catch(() => undefined);
    const question = task.state === 'waiting' ? await waitQuestion(this.engine, entry.run, task) : undefined;
    return presentTask(task, now, usage, { single: entry.run.single, ...(question ? { question } : {}) });
  }

  /**
   * The run's spending as last known, asking the engine when that is out of date (never asked, or
   * an event of the run came since); when the answer shows differently, the row is drawn again.
   */
  private knownUsage(entry: RunEntry): UsageTotals | undefined {
    if (entry.usageAnswers === entry.usageGeneration || entry.usageAsking) return entry.usage;
    entry.usageAsking = true;
    const generation = entry.usageGeneration;
    this.engine
      .usage(entry.run.id)
      .then(
        (usage) => {
          const shown = (u: UsageTotals | undefined) => (usageText(u) ? JSON.stringify(u) : '');
          const changed = shown(usage) !== shown(entry.usage);
          entry.usage = usage;
          entry.usageAnswers = generation;
          // An event came while it was asked: the row asks again when it is drawn.
          if (changed || generation !== entry.usageGeneration) this.onRowChanged?.(entry.node);
        },
        () => (entry.usageAnswers = generation),
      )
      .finally(() => (entry.usageAsking = false));
    return entry.usage;
  }

  /** Runs and tasks whose rows show a ticking duration or a retry countdown. */
  liveNodes(): TreeNode[] {
    const nodes: TreeNode[] = [];
    for (const entry of this.entries.values()) {
      if (entry.run.state !== 'running') continue;
      nodes.push(entry.node);
      for (const node of entry.taskNodes.values()) {
        const state = entry.tasks?.get(node.taskId)?.state;
        if (state === 'running' || state === 'queued') nodes.push(node);
      }
    }
    return nodes;
  }

  /**
   * The live rows a tick redraws. An expanded run's own row is left out (its live task rows tick):
   * VS Code forgets the children of a row it redraws until it has listed them again, and an inline
   * action (Approve…) clicked on a task row meanwhile reaches its command without the row, which then
   * asks which run. A run's duration still changes with its events, and ticks again once collapsed.
   */
  tickNodes(expandedRuns: ReadonlySet<string>): TreeNode[] {
    return this.liveNodes().filter((node) => node.kind !== 'run' || !expandedRuns.has(node.runId));
  }

  /** Folds an engine event into the cached rows and says which rows changed. */
  apply(event: EngineEvent, change: TreeChange = { root: false, nodes: new Set() }): TreeChange {
    if (isTaskTransition(event)) {
      this.applyTask(event.task, change);
      return change;
    }
    switch (event.type) {
      case 'workflow.launched': {
        const entry: RunEntry = {
          run: event.run,
          node: { kind: 'run', runId: event.run.id },
          tasks: new Map(event.tasks.map((t) => [t.id, t])),
          taskNodes: new Map(),
          shownTasks: this.taskPageSize,
          usageGeneration: 0,
        };
        if (!this.entries.has(event.run.id)) {
          this.entries.set(event.run.id, entry);
          this.order.unshift(event.run.id);
          this.total++;
        }
        change.root = true;
        break;
      }
      case 'workflow.completed':
      case 'workflow.failed':
      case 'workflow.cancelled':
      case 'workflow.resumed':
      case 'workflow.paused':
      case 'workflow.unpaused':
      // Its allowed rules or a raised budget (spent / budget on the row).
      case 'run.updated':
      // Its branch or pull request: the row's "Open Pull Request" action appears without a reload.
      case 'run.delivered': {
        const entry = this.entries.get(event.run.id);
        if (entry) {
          entry.run = event.run;
          entry.usageGeneration++;
          change.nodes.add(entry.node);
        }
        break;
      }
      case 'workflow.removed': {
        for (const id of event.runIds) {
          if (this.entries.delete(id)) this.order = this.order.filter((o) => o !== id);
        }
        this.total = Math.max(0, this.total - event.runIds.length);
        change.root = true;
        break;
      }
      case 'task.progress':
        break;
    }
    return change;
  }

  private applyTask(task: TaskRecord, change: TreeChange): void {
    const entry = this.entries.get(task.runId);
    if (!entry) return;
    entry.usageGeneration++;
    // Tasks not loaded yet stay unloaded (lazy); the run row still changes (progress, duration).
    if (entry.tasks) {
      entry.tasks.set(task.id, task);
      const node = entry.taskNodes.get(task.id);
      if (node) change.nodes.add(node);
    }
    change.nodes.add(entry.node);
  }

  private taskNode(entry: RunEntry, taskId: string): TaskNode {
    let node = entry.taskNodes.get(taskId);
    if (!node) {
      node = { kind: 'task', runId: entry.run.id, taskId };
      entry.taskNodes.set(taskId, node);
    }
    return node;
  }

  private async loadTasks(entry: RunEntry): Promise<Map<string, TaskRecord>> {
    const status = await this.engine.status(entry.run.id);
    entry.run = status.run;
    // Events that arrived while the query ran are newer than its answer: keep them.
    const fresh = new Map<string, TaskRecord>(status.tasks.map((t) => [t.id, t]));
    if (entry.tasks) for (const [id, t] of entry.tasks) if ((fresh.get(id)?.updatedAt ?? -1) < t.updatedAt) fresh.set(id, t);
    entry.tasks = fresh;
    return fresh;
  }
}
