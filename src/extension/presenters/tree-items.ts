import { describeRequest, type Budget } from '../../core/model/input-request.ts';
import { requestSummary } from './permission-texts.ts';
import type { UsageTotals } from '../../core/engine/engine-api.ts';
import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import type { RunState, TaskState } from '../../core/model/task-state.ts';
import type { TaskAction } from '../../core/model/workflow.ts';
import { escapeMarkdown, formatCost, formatTime, formatTokens, formatWhen } from './format.ts';
import { pullRequestUrl } from './run-links.ts';
import { deliverySummary } from '../../core/git/delivery-summary.ts';
import { actionLabel } from '../../core/model/action-label.ts';
import { needsFirstOrder } from '../../core/workflow/task-graph.ts';
import { formatDuration, oneLine } from '../../core/util/text-format.ts';

/** A codicon id (`sync~spin`) and an optional theme colour id; the adapter makes a `ThemeIcon` of it. */
export interface IconView {
  id: string;
  color?: string;
}

/** Everything a tree row shows, as plain data. `tooltip` is markdown. */
export interface TreeItemView {
  label: string;
  description: string;
  tooltip: string;
  icon: IconView;
  /**
   * `run:<state>[:file][:pr][:branch]` or `task:<state>[:result][:<request kind>][:agent][:conflict]`; package.json's `when` clauses match these
   * with regexes, so the tokens are part of the contract with the manifest.
   */
  contextValue: string;
  collapsible: boolean;
}

const TASK_ICONS: Record<TaskState, IconView> = {
  pending: { id: 'circle-outline', color: 'disabledForeground' },
  queued: { id: 'clock', color: 'testing.iconQueued' },
  running: { id: 'sync~spin' },
  waiting: { id: 'bell', color: 'charts.yellow' },
  'needs-input': { id: 'question', color: 'charts.orange' },
  completed: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
  skipped: { id: 'debug-step-over', color: 'testing.iconSkipped' },
};

const RUN_ICONS: Record<RunState, IconView> = {
  running: { id: 'sync~spin' },
  paused: { id: 'debug-pause', color: 'charts.orange' },
  completed: { id: 'pass-filled', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
};

export function taskIcon(task: TaskRecord, now: number): IconView {
  // A queued task held back by its retry delay is not just waiting for a slot: say so.
  if (task.state === 'queued' && task.notBefore !== undefined && task.notBefore > now) return { id: 'history', color: 'charts.orange' };
  return TASK_ICONS[task.state];
}

export function runIcon(state: RunState): IconView {
  return RUN_ICONS[state];
}

/** How far a run has got, when its tasks are known. */
export interface RunProgress {
  finished: number;
  total: number;
}

export function runProgress(tasks: readonly TaskRecord[]): RunProgress {
  const finished = tasks.filter((t) => t.state === 'completed' || t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped').length;
  return { finished, total: tasks.length };
}

export function presentRun(run: RunRecord, progress: RunProgress | undefined, now: number, usage?: UsageTotals): TreeItemView {
  const elapsed = (run.finishedAt ?? now) - run.createdAt;
  const parts: string[] = [];
  if (run.state !== 'completed') parts.push(run.state);
  parts.push(formatDuration(elapsed));
  if (progress) parts.push(`${progress.finished}/${progress.total} tasks`);
  const spent = usageText(usage);
  if (spent) parts.push(spent);
  parts.push(formatWhen(run.createdAt, now));
  const code = deliverySummary(run);
  if (code.short) parts.push(code.short);

  const pr = pullRequestUrl(run);
  let contextValue = `run:${run.state}`;
  if (run.file) contextValue += ':file';
  if (pr) contextValue += ':pr';
  if (run.delivery?.branch) contextValue += ':branch';

  const lines = [
    `**${escapeMarkdown(run.name)}** — ${run.state}`,
    '',
    `- Run: \`${run.id}\``,
    `- Started: ${formatTime(run.createdAt)}`,
    run.finishedAt !== undefined ? `- Finished: ${formatTime(run.finishedAt)} (${formatDuration(elapsed)})` : `- Running for ${formatDuration(elapsed)}`,
  ];
  if (progress) lines.push(`- Tasks: ${progress.finished} of ${progress.total} finished`);
  if (run.file) lines.push(`- Workflow: ${escapeMarkdown(run.file)}`);
  const inputs = Object.entries(run.inputs);
  if (inputs.length) lines.push(`- Inputs: ${inputs.map(([k, v]) => `${escapeMarkdown(k)}=${escapeMarkdown(oneLine(v, 60))}`).join(', ')}`);
  if (code.sentence) lines.push(`- Code: ${escapeMarkdown(code.sentence)}`);
  if (pr) lines.push(`- Pull request: ${pr}`);
  if (run.state === 'paused' && run.pause) {
    lines.push(
      `- Paused: ${escapeMarkdown(oneLine(run.pause.reason, 200))}` +
        (run.pause.until !== undefined ? ` (tries again at ${formatTime(run.pause.until)})` : ' (until resumed)'),
    );
  }
  if (usage && spent) lines.push(...usageLines(usage));
  // Both change while the run goes on (an answer raises the budget or allows a rule for the run): see `run.updated`.
  if (run.budget) lines.push(`- Run budget: ${spentOfBudget(run.budget, usage)}`);
  if (run.allowed?.length) lines.push(`- Allowed for this run: ${run.allowed.map((rule) => `\`${rule}\``).join(', ')}`);

  return {
    label: run.description && run.single ? oneLine(run.description, 80) : run.name,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    icon: runIcon(run.state),
    contextValue,
    collapsible: true,
  };
}

/** What a task row knows beyond its record. */
export interface TaskRowContext {
  /** The task's run has only it: its row's label is its kind, as the run row already shows the long name. */
  single?: boolean;
  /** A waiting task's question, its references filled in (`waitQuestion`). */
  question?: string;
}

export function presentTask(task: TaskRecord, now: number, usage?: UsageTotals, context: TaskRowContext = {}): TreeItemView {
  const parts: string[] = [];
  const retryDelay = task.state === 'queued' && task.notBefore !== undefined && task.notBefore > now ? task.notBefore - now : undefined;
  if (retryDelay !== undefined) parts.push(`retry in ${formatDuration(retryDelay)}`);
  else if (task.state === 'pending') parts.push(task.needs.length ? `needs ${task.needs.join(', ')}` : 'pending');
  else if (task.state === 'queued') parts.push(task.interrupted ? 'resumes after an interruption' : 'queued');
  else if (task.state === 'waiting') parts.push(context.question ? `waiting: ${oneLine(context.question, 80)}` : 'waiting for signal');
  else if (task.state === 'needs-input') parts.push(requestSummary(task));
  else if (task.state === 'skipped') parts.push('skipped');
  else if (task.startedAt !== undefined) parts.push(formatDuration((task.finishedAt ?? now) - task.startedAt));
  else if (task.state === 'cancelled') parts.push('cancelled');

  const maxAttempts = (task.attemptBase ?? 0) + task.retry.max + 1; // attempt numbers go on across user retries
  if (task.attempt > 1 || (maxAttempts > 1 && task.attempt > 0)) parts.push(`attempt ${task.attempt}/${maxAttempts}`);
  const spent = usageText(usage);
  if (spent) parts.push(spent);
  if (task.budget) parts.push(spentOfBudget(task.budget, usage));
  // A user's own `run:` commands are unconfined by design: 'unconfined' is news only for an agent's commands.
  if (task.sandboxed || (task.sandboxed === false && task.action.kind === 'agent')) parts.push(task.sandboxed ? 'sandboxed' : 'unconfined');

  const lines = [`**${escapeMarkdown(task.name || task.key)}** — ${task.state}`, '', `- Task: \`${task.id}\``, `- Action: ${describeAction(task.action)}`];
  if (task.needs.length) lines.push(`- Needs: ${task.needs.map(escapeMarkdown).join(', ')}`);
  if (task.state === 'waiting' && context.question)
    lines.push(`- Asks: ${escapeMarkdown(oneLine(context.question, 500))}`, '- Answer: Approve or Reject on this row');
  if (task.action.kind === 'run' && task.action.sandbox !== undefined)
    lines.push(`- Sandbox: ${task.action.sandbox ? 'required (`sandbox: true`)' : 'off (`sandbox: false`)'}`);
  if (task.sandboxed !== undefined) {
    lines.push(`- Commands: ${task.sandboxed ? 'ran in the OS sandbox' : 'ran unconfined (no sandbox here; only the text checks applied)'}`);
  }
  if (task.startedAt !== undefined) lines.push(`- Started: ${formatTime(task.startedAt)}`);
  if (task.finishedAt !== undefined && task.startedAt !== undefined) lines.push(`- Took: ${formatDuration(task.finishedAt - task.startedAt)}`);
  if (task.attempt > 0) lines.push(`- Attempt: ${task.attempt} of ${maxAttempts}`);
  if (retryDelay !== undefined) lines.push(`- Next attempt in ${formatDuration(retryDelay)}`);
  // An interruption (its engine stopped) is not a failed attempt: shown apart, with why.
  if (task.interruptions) {
    const last = task.interrupted ? `; last: ${escapeMarkdown(task.interrupted)}` : '';
    lines.push(`- Interrupted: ${task.interruptions === 1 ? 'once' : `${task.interruptions} times`} (resumed without using an attempt${last})`);
  }
  if (usage && spent) lines.push(...usageLines(usage));
  if (task.request) lines.push('', `Needs input: ${escapeMarkdown(describeRequest(task.request))}`);
  // A failed merge: the files are what the user has to open, so the row names them (the error's sentence cuts them off).
  const conflict = task.state === 'failed' ? task.mergeConflict : undefined;
  if (conflict) {
    lines.push(`- Conflicts with ${escapeMarkdown(conflict.runBranch)} in: ${conflict.files.map((f) => `\`${f.replace(/`/g, "'")}\``).join(', ')}`);
    lines.push(`- Resolve: Resolve Merge Conflict… on this row (worktree ${escapeMarkdown(conflict.worktree)}), then Retry`);
  }
  if (task.error) lines.push('', `Error: ${escapeMarkdown(oneLine(task.error, 500))}`);

  return {
    // A single-task run's row already shows the long label: its task row says what kind of task it is.
    label: context.single ? actionLabel(task.action) : task.name || task.key,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    icon: taskIcon(task, now),
    contextValue:
      `task:${task.state}${task.state === 'completed' ? ':result' : ''}${task.request ? `:${task.request.kind}` : ''}` +
      `${task.action.kind === 'agent' ? ':agent' : ''}${conflict ? ':conflict' : ''}`,
    collapsible: false,
  };
}

/** "12.3k tokens · $0.0421", or '' when nothing was spent. */
export function usageText(usage: UsageTotals | undefined): string {
  const tokens = usage ? usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens : 0;
  if (!usage || tokens === 0) return '';
  return `${formatTokens(tokens)} tokens · ${formatCost(usage.costUsd)}`;
}

function usageLines(usage: UsageTotals): string[] {
  return [
    `- Tokens: ${formatTokens(usage.inputTokens)} in, ${formatTokens(usage.outputTokens)} out, ` +
      `${formatTokens(usage.cacheReadTokens)} cache read, ${formatTokens(usage.cacheWriteTokens)} cache write`,
    `- Cost: $${usage.costUsd.toFixed(4)}`,
  ];
}

/** One line saying what a task does, for tooltips and documents. */
export function describeAction(action: TaskAction): string {
  switch (action.kind) {
    case 'run':
      return `shell \`${oneLine(action.run, 100).replace(/`/g, "'")}\``;
    case 'agent':
      return `agent ${escapeMarkdown(action.agent)}${action.model ? ` (${escapeMarkdown(action.model)})` : ''}: ${escapeMarkdown(oneLine(action.prompt, 100))}`;
    case 'wait':
      return action.message ? `wait for a signal: ${escapeMarkdown(oneLine(action.message, 100))}` : 'wait for a signal';
    case 'noop':
      return 'no-op';
  }
}

/**
 * Tasks in an order that respects `needs` (a task after everything it needs), ties broken by file
 * order. File order alone is not enough: a workflow may list a task before one it needs.
 */
export function dagOrder(tasks: readonly TaskRecord[]): TaskRecord[] {
  const inFileOrder = [...tasks].sort((a, b) => a.order - b.order || a.key.localeCompare(b.key));
  const byKey = new Map(inFileOrder.map((t) => [t.key, t]));
  return needsFirstOrder(inFileOrder.map((t) => ({ id: t.key, needs: t.needs }))).map((key) => byKey.get(key)!);
}

/** `$0.04 / $0.50 budget`: what a task spent against its budget, for its row. */
export function spentOfBudget(budget: Budget, usage: UsageTotals | undefined): string {
  const parts: string[] = [];
  if (budget.usd !== undefined) parts.push(`$${(usage?.costUsd ?? 0).toFixed(2)} / $${budget.usd}`);
  if (budget.tokens !== undefined) {
    const tokens = usage ? usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens : 0;
    parts.push(`${formatTokens(tokens)} / ${formatTokens(budget.tokens)} tokens`);
  }
  return `${parts.join(' · ')} budget`;
}
