import * as vscode from 'vscode';
import type { EngineApi } from '../../core/engine/engine-api.ts';
import type { RunState, TaskState } from '../../core/model/task-state.ts';
import { UserError } from '../engine-host.ts';
import { formatTime, shortRunId } from '../presenters/format.ts';
import type { CommandTarget } from '../presenters/notification-policy.ts';
import { describeAction, dagOrder } from '../presenters/tree-items.ts';

/** A tree row or a toast action's argument: both carry `runId` and maybe `taskId`. */
export function asTarget(arg: unknown): CommandTarget | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const { runId, taskId } = arg as { runId?: unknown; taskId?: unknown };
  if (typeof runId !== 'string') return undefined;
  return typeof taskId === 'string' ? { runId, taskId } : { runId };
}

interface PickOptions {
  title: string;
  /** Only offer runs in these states. */
  runStates?: RunState[];
  /** Offer the run's tasks in these states after picking a run; without it the run itself is the answer. */
  taskStates?: TaskState[];
  /** Offer "the whole run" next to its tasks. */
  allowRun?: boolean;
}

/** Asks which run (and task) a palette command acts on. Undefined when the user dismisses the pick. */
export async function pickTarget(engine: EngineApi, options: PickOptions): Promise<CommandTarget | undefined> {
  const { runs } = await engine.list({ limit: 100, ...(options.runStates ? { states: options.runStates } : {}) });
  if (!runs.length) throw new UserError(options.runStates ? `No ${options.runStates.join(' or ')} runs.` : 'No runs yet.');
  const run = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.name, description: `${r.state} · run ${shortRunId(r.id)}`, detail: formatTime(r.createdAt), runId: r.id })),
    { title: options.title, placeHolder: 'Which run?', matchOnDescription: true },
  );
  if (!run) return undefined;
  if (!options.taskStates) return { runId: run.runId };
  const { tasks } = await engine.status(run.runId);
  const wanted = dagOrder(tasks).filter((t) => options.taskStates!.includes(t.state));
  const items: Array<vscode.QuickPickItem & { target: CommandTarget }> = [];
  if (options.allowRun) items.push({ label: '$(list-tree) Whole run', description: run.label, target: { runId: run.runId } });
  for (const t of wanted)
    items.push({
      label: t.name || t.key,
      description: t.state,
      detail: describeAction(t.action).replace(/\\/g, ''),
      target: { runId: run.runId, taskId: t.id },
    });
  if (!items.length) throw new UserError(`No ${options.taskStates.join(' or ')} tasks in ${run.label}.`);
  if (items.length === 1) return items[0]!.target;
  return (await vscode.window.showQuickPick(items, { title: options.title, placeHolder: 'Which task?' }))?.target;
}
