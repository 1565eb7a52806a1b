import * as vscode from 'vscode';
import type { EngineApi } from '../core/engine/engine-api.ts';
import type { InputReply } from '../core/model/input-request.ts';
import type { RunRecord, TaskRecord } from '../core/model/records.ts';
import type { Logger } from '../core/util/logger.ts';
import { EngineHost } from './engine-host.ts';
import { ALLOW_FOR_RUN, ALLOW_ONCE, DENY, RAISE_BUDGET, RESUME, STOP, pausedToast, requestToast } from './presenters/permission-texts.ts';
import type { RunsTree } from './views/runs-tree.ts';
import { RUNS_VIEW_ID } from './views/runs-tree.ts';
import { COMMAND_IDS } from './commands/command-ids.ts';

/**
 * Tasks that ask the user something (`needs-input`) and runs that paused, as this window sees
 * them: a toast per new request (Allow Once / Allow for This Run / Deny…, or Raise Budget / Stop)
 * and per pause (Resume), a badge with their count on the runs view, and a status bar item that
 * shows the requests again. Seeded from the store when the engine opens (requests survive
 * reloads), then kept by events.
 */
export class PermissionRequests implements vscode.Disposable {
  private readonly asking = new Map<string, TaskRecord>();
  private readonly runNames = new Map<string, string>();
  /** Requests and pauses already toasted in this window (a toast each, not one per event or reload). */
  private readonly shown = new Set<string>();
  private readonly item = vscode.window.createStatusBarItem('orchestr8.needsInput', vscode.StatusBarAlignment.Left, 49);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: EngineHost,
    private readonly tree: RunsTree,
    private readonly logger: Logger,
  ) {
    this.item.name = 'Orchestr8: needs input';
    this.item.command = COMMAND_IDS.showRequests;
    this.disposables.push(
      this.item,
      host.onEvent((e) => {
        if (e.type === 'workflow.launched') this.runNames.set(e.run.id, e.run.name);
        else if (e.type === 'workflow.paused' && !e.replayed) this.toastPause(e.run);
        else if ('task' in e) this.track(e.task);
      }),
      host.onDidChangeState(() => void this.seed()),
      host.onDidReload(() => void this.seed()),
    );
    void this.seed();
  }

  /** Every open request again as a toast (the status bar item's click). */
  showAll(): void {
    for (const task of this.asking.values()) this.toastRequest(task, true);
    if (!this.asking.size) void vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
  }

  /** Answers a task's request from a toast, the tree or the palette; `Deny…` asks for an optional reason. */
  static async answer(engine: EngineApi, task: TaskRecord, choice: string): Promise<void> {
    let reply: InputReply | undefined;
    if (choice === ALLOW_ONCE) reply = { decision: 'allow' };
    else if (choice === ALLOW_FOR_RUN) reply = { decision: 'allow', always: true };
    else if (choice === STOP) reply = { decision: 'deny' };
    else if (choice === RAISE_BUDGET) {
      const budget = task.request?.kind === 'budget' ? task.request.budget : undefined;
      const byUsd = budget?.usd !== undefined;
      const amount = await vscode.window.showInputBox({
        title: `Raise the budget of ${task.name || task.key}`,
        prompt: byUsd ? 'Raise by how many dollars? (empty: by the budget again)' : 'Raise by how many tokens? (empty: by the budget again)',
        validateInput: (v) => (v.trim() === '' || Number(v) > 0 ? undefined : 'a positive number, or empty'),
      });
      if (amount === undefined) return;
      reply = { decision: 'allow', ...(amount.trim() ? { raise: byUsd ? { usd: Number(amount) } : { tokens: Math.round(Number(amount)) } } : {}) };
    } else if (choice === DENY) {
      const reason = await vscode.window.showInputBox({
        title: `Deny ${task.request?.kind === 'permission' ? task.request.call : 'the request'}`,
        prompt: 'Why? The agent receives this as the tool result (optional).',
        placeHolder: 'e.g. use npm run clean instead',
      });
      if (reason === undefined) return;
      reply = { decision: 'deny', ...(reason.trim() ? { reason: reason.trim() } : {}) };
    }
    if (!reply) return;
    await engine.answer(task.id, reply);
    vscode.window.setStatusBarMessage(`Orchestr8: ${choice.replace('…', '')} · ${task.name || task.key}`, 4000);
  }

  private async seed(): Promise<void> {
    const engine = this.host.engine;
    this.asking.clear();
    if (engine) {
      try {
        const { runs } = await engine.list({ states: ['running', 'paused'], limit: 1000 });
        for (const run of runs) this.runNames.set(run.id, run.name);
        const statuses = await Promise.all(runs.map((r) => engine.status(r.id)));
        for (const { run, tasks } of statuses) {
          for (const task of tasks) this.track(task);
          if (run.state === 'paused') this.toastPause(run);
        }
      } catch (error) {
        this.logger.error('could not read the open requests', error);
      }
    }
    this.update();
  }

  private track(task: TaskRecord): void {
    const had = this.asking.has(task.id);
    if (task.state === 'needs-input' && task.request) {
      this.asking.set(task.id, task);
      this.toastRequest(task, false);
    } else this.asking.delete(task.id);
    if (had !== this.asking.has(task.id)) this.update();
  }

  private toastRequest(task: TaskRecord, again: boolean): void {
    const key = `${task.id}:${task.request?.id}`;
    if (!again && this.shown.has(key)) return;
    this.shown.add(key);
    const toast = requestToast(task, this.runNames.get(task.runId) ?? task.runId);
    if (!toast) return;
    void vscode.window.showWarningMessage(toast.message, ...toast.actions).then(async (choice) => {
      if (!choice) return;
      const current = this.asking.get(task.id);
      // Answered elsewhere meanwhile (the tree, the CLI, another window): nothing to do.
      if (!current || current.request?.id !== task.request?.id) return;
      try {
        await PermissionRequests.answer(await this.host.writable(), current, choice);
      } catch (error) {
        this.logger.error('could not answer the request', error);
        void vscode.window.showErrorMessage(EngineHost.describeError(error));
      }
    });
  }

  private toastPause(run: RunRecord): void {
    const key = `pause:${run.id}:${run.pause?.since}`;
    if (this.shown.has(key)) return;
    this.shown.add(key);
    const toast = pausedToast(run);
    void vscode.window.showWarningMessage(toast.message, ...toast.actions).then(async (choice) => {
      if (choice !== RESUME) return;
      try {
        await (await this.host.writable()).resume(run.id);
      } catch (error) {
        void vscode.window.showErrorMessage(EngineHost.describeError(error));
      }
    });
  }

  private update(): void {
    const n = this.asking.size;
    this.tree.view.badge = n ? { value: n, tooltip: `${n} task${n === 1 ? '' : 's'} need${n === 1 ? 's' : ''} your input` } : undefined;
    if (!n) {
      this.item.hide();
      return;
    }
    this.item.text = `$(question) ${n} need${n === 1 ? 's' : ''} input`;
    this.item.tooltip = [...this.asking.values()]
      .map((t) => requestToast(t, this.runNames.get(t.runId) ?? t.runId)?.message.replace(/^Orchestr8: /, '') ?? t.id)
      .join('\n');
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.item.show();
  }

  /** The task the tree row or toast argument names, as the store has it now. */
  async taskOf(arg: unknown): Promise<TaskRecord | undefined> {
    const taskId = arg && typeof arg === 'object' ? (arg as { taskId?: unknown }).taskId : undefined;
    if (typeof taskId === 'string') return this.asking.get(taskId) ?? (await this.host.engine?.task(taskId));
    if (this.asking.size === 1) return [...this.asking.values()][0];
    const pick = await vscode.window.showQuickPick(
      [...this.asking.values()].map((t) => ({
        label: t.name || t.key,
        description: requestToast(t, this.runNames.get(t.runId) ?? t.runId)?.message.replace(/^Orchestr8: /, ''),
        task: t,
      })),
      { title: 'Which request?' },
    );
    return pick?.task;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
