import type { NotificationRecord, RunRecord, TaskRecord } from '../../core/model/records.ts';
import { deliverySummary } from '../../core/git/delivery-summary.ts';
import { shortRunId } from './format.ts';
import { pullRequestUrl } from './run-links.ts';
import { formatDuration, oneLine } from '../../core/util/text-format.ts';
import { COMMAND_IDS } from '../commands/command-ids.ts';

/** `orchestr8.notifications`: how chatty the extension is. */
export const NOTIFICATION_LEVELS = ['all', 'failures', 'none'] as const;
export type NotificationLevel = (typeof NOTIFICATION_LEVELS)[number];

export function toNotificationLevel(value: unknown): NotificationLevel {
  return (NOTIFICATION_LEVELS as readonly unknown[]).includes(value) ? (value as NotificationLevel) : 'all';
}

/** What a command acts on; tree nodes and toast actions both pass one. */
export interface CommandTarget {
  runId: string;
  taskId?: string;
}

export interface ToastAction {
  title: string;
  /** A `COMMAND_IDS` command, or one VS Code makes itself (a view's `.focus`). */
  command: string;
  args: unknown[];
}

export interface ToastView {
  severity: 'info' | 'warning' | 'error';
  message: string;
  actions: ToastAction[];
}

const openResult = (target: CommandTarget): ToastAction => ({ title: 'Open Result', command: COMMAND_IDS.openResult, args: [target] });
const showLog = (target: CommandTarget): ToastAction => ({ title: 'Show Log', command: COMMAND_IDS.showLog, args: [target] });
const retry = (target: CommandTarget): ToastAction => ({ title: 'Retry', command: COMMAND_IDS.retry, args: [target] });
/** "Resolve Merge Conflict…" for a task whose merge into its run's branch conflicted; nothing for any other. */
const resolveConflict = (task: TaskRecord): ToastAction[] =>
  task.mergeConflict ? [{ title: 'Resolve Merge Conflict…', command: COMMAND_IDS.resolveMergeConflict, args: [{ runId: task.runId, taskId: task.id }] }] : [];
const openPr = (run: RunRecord): ToastAction[] =>
  pullRequestUrl(run) ? [{ title: 'Open Pull Request', command: COMMAND_IDS.openPullRequest, args: [{ runId: run.id }] }] : [];

function runLabel(run: RunRecord): string {
  return `${run.name} (run ${shortRunId(run.id)})`;
}

/**
 * The toast for a run that reached a final state, or undefined when the level says to stay quiet.
 * `tasks` are the run's tasks, used to point "Show Log" at the task that failed.
 */
/** What happened to the run's code (branch, commits, push, pull request or why none), after the toast's first sentence. */
function codeSentence(run: RunRecord): string {
  const { sentence } = deliverySummary(run);
  return sentence ? ` ${sentence}` : '';
}

/** "Review Changes" for a run whose branch holds commits. */
function reviewChanges(run: RunRecord): ToastAction[] {
  return run.delivery?.branch && (run.delivery.commits ?? 0) > 0
    ? [{ title: 'Review Changes', command: COMMAND_IDS.reviewChanges, args: [{ runId: run.id }] }]
    : [];
}

export function workflowToast(run: RunRecord, tasks: readonly TaskRecord[], level: NotificationLevel): ToastView | undefined {
  if (level === 'none') return undefined;
  const took = run.finishedAt !== undefined ? ` in ${formatDuration(run.finishedAt - run.createdAt)}` : '';
  switch (run.state) {
    case 'completed':
      if (level !== 'all') return undefined;
      return {
        severity: 'info',
        message: `${runLabel(run)} completed${took}.${codeSentence(run)}`,
        actions: [openResult({ runId: run.id }), ...openPr(run), ...reviewChanges(run)],
      };
    case 'failed': {
      const failed = tasks.find((t) => t.state === 'failed');
      // This toast stands for its tasks' failure toasts too (toast-grouping), so a conflicted task's
      // way on is offered even when another task failed first.
      const conflicted = tasks.find((t) => t.state === 'failed' && t.mergeConflict);
      const why = failed ? `task ${failed.name || failed.key} failed${failed.error ? `: ${failed.error}` : ''}` : undefined;
      return {
        severity: 'error',
        message: `${runLabel(run)} failed${why ? `: ${oneLine(why, 200)}` : '.'}${codeSentence(run)}`,
        actions: [
          ...(conflicted ? resolveConflict(conflicted) : []),
          ...(failed ? [showLog({ runId: run.id, taskId: failed.id })] : []),
          retry({ runId: run.id }),
          openResult({ runId: run.id }),
          ...openPr(run),
        ],
      };
    }
    case 'cancelled':
      if (level !== 'all') return undefined;
      return { severity: 'warning', message: `${runLabel(run)} was cancelled.`, actions: [openResult({ runId: run.id })] };
    case 'running':
      return undefined;
  }
}

/**
 * The toast for a pull request that a run opened after its completion toast was shown (a slow
 * push), or undefined when it has none or the level says to stay quiet.
 */
export function pullRequestToast(run: RunRecord, level: NotificationLevel): ToastView | undefined {
  if (level !== 'all' || !pullRequestUrl(run)) return undefined;
  return { severity: 'info', message: `${runLabel(run)} opened a pull request.`, actions: openPr(run) };
}

/** The toast for a task that failed for good (no retries left). */
export function taskFailedToast(run: RunRecord | undefined, task: TaskRecord, error: string, level: NotificationLevel): ToastView | undefined {
  if (level === 'none') return undefined;
  const target = { runId: task.runId, taskId: task.id };
  const where = run ? ` of ${runLabel(run)}` : '';
  return {
    severity: 'error',
    message: `Task ${task.name || task.key}${where} failed: ${oneLine(error, 200)}`,
    actions: [...resolveConflict(task), showLog(target), retry(target)],
  };
}

/** Does the level let this stored notification through? */
/** The owner's storage paused (a full disk) or resumed: shown whatever the level, as it stops all work. */
export function storageToast(state: 'paused' | 'resumed', reason: string): ToastView {
  return state === 'paused'
    ? {
        severity: 'warning',
        message: `Orchestr8: disk full, work is paused until space is freed. Running tasks go on; their results are saved once it is. (${reason})`,
        actions: [],
      }
    : { severity: 'info', message: `Orchestr8: storage ${reason}.`, actions: [] };
}

export function wanted(record: NotificationRecord, level: NotificationLevel): boolean {
  if (level === 'none') return false;
  if (level === 'failures') return record.kind === 'workflow.failed' || record.kind === 'task.failed';
  return true;
}

/**
 * One toast summing up what finished while no window was open ("While you were away: …"), or
 * undefined when nothing the level lets through happened. Task failures of a run that also failed as
 * a whole are folded into the run's entry, so one broken run is one line, not two.
 */
export function awaySummary(records: readonly NotificationRecord[], level: NotificationLevel): ToastView | undefined {
  const shown = records.filter((r) => wanted(r, level));
  if (!shown.length) return undefined;
  const failedRuns = new Set(shown.filter((r) => r.kind === 'workflow.failed').map((r) => r.runId));
  const entries = shown.filter((r) => !(r.kind === 'task.failed' && failedRuns.has(r.runId)));

  const failures = entries.filter((r) => r.kind === 'workflow.failed' || r.kind === 'task.failed');
  const severity: ToastView['severity'] = failures.length ? 'error' : 'info';
  let text: string;
  if (entries.length <= 3) {
    text = entries.map((r) => oneLine(r.title, 80)).join('; ');
  } else {
    const count = (kind: NotificationRecord['kind']) => entries.filter((r) => r.kind === kind).length;
    const parts = [
      [count('workflow.completed'), 'workflow completed', 'workflows completed'],
      [count('workflow.failed'), 'workflow failed', 'workflows failed'],
      [count('workflow.cancelled'), 'workflow cancelled', 'workflows cancelled'],
      [count('task.failed'), 'task failed', 'tasks failed'],
    ] as const;
    text = parts
      .filter(([n]) => n > 0)
      .map(([n, one, many]) => `${n} ${n === 1 ? one : many}`)
      .join(', ');
  }

  const actions: ToastAction[] = [];
  const single = entries.length === 1 ? entries[0] : undefined;
  if (single?.kind === 'task.failed' && single.taskId) actions.push(showLog({ runId: single.runId, taskId: single.taskId }));
  else if (single) actions.push(openResult({ runId: single.runId }));
  actions.push({ title: 'Show Runs', command: 'orchestr8.runs.focus', args: [] });
  return { severity, message: `While you were away: ${text}.`, actions };
}

/** Message shown at once when a launch is durable; control returns to the user right after. */
export function startedMessage(name: string, runId: string): string {
  return `Started ${name} (run ${shortRunId(runId)})`;
}
