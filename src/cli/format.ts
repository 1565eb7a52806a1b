import { deliverySummary } from '../core/git/delivery-summary.ts';
import type { RunRecord, TaskRecord } from '../core/model/records.ts';
import type { TaskState } from '../core/model/task-state.ts';
import { formatDuration, oneLine } from '../core/util/text-format.ts';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

const ICONS: Record<TaskState, string> = {
  pending: dim('·'),
  queued: dim('…'),
  running: cyan('▶'),
  waiting: yellow('⏸'),
  'needs-input': yellow('?'),
  completed: green('✓'),
  failed: red('✗'),
  cancelled: yellow('⊘'),
  skipped: dim('⊘'),
};

export function stateIcon(state: TaskState): string {
  return ICONS[state];
}

export function runStateText(run: RunRecord): string {
  const color = run.state === 'completed' ? green : run.state === 'running' ? cyan : run.state === 'paused' ? yellow : run.state === 'failed' ? red : yellow;
  return color(run.state);
}

/** Elapsed time of a task so far, or its whole duration once finished. */
export function taskDuration(task: TaskRecord, now: number): string {
  if (!task.startedAt) return '';
  return formatDuration((task.finishedAt ?? now) - task.startedAt);
}

/** One status line of a task: state, attempt, interruptions, duration, error; `extra` (an agent's spend) after the duration. */
export function taskLine(task: TaskRecord, now: number, icon = stateIcon(task.state), extra = ''): string {
  // Attempt numbers go on across user retries; each retry grants the policy's attempts again.
  const allowed = (task.attemptBase ?? 0) + task.retry.max + 1;
  const attempts = (task.retry.max > 0 || task.attemptBase) && task.attempt > 0 ? ` attempt ${task.attempt}/${allowed}` : '';
  const retryIn = task.state === 'queued' && task.notBefore && task.notBefore > now ? ` retry in ${formatDuration(task.notBefore - now)}` : '';
  const duration = taskDuration(task, now);
  const interrupted = task.interruptions ? ` interrupted ${task.interruptions}×` : '';
  const error = task.error && task.state !== 'completed' && task.state !== 'running' ? `  ${dim(oneLine(task.error, 80))}` : '';
  const resumes = task.state === 'queued' && task.interrupted ? `  ${dim(oneLine(`resumes: ${task.interrupted}`, 80))}` : '';
  // Why its dependents ran anyway.
  const tolerated = task.state === 'failed' && task.continueOnError ? ` ${yellow('(continue_on_error: dependents go on)')}` : '';
  const spend = extra ? ` ${dim(extra)}` : '';
  const head = `  ${icon} ${task.key.padEnd(18)} ${task.state.padEnd(9)}${duration ? ` ${duration}` : ''}`;
  return `${head}${spend}${attempts}${interrupted}${retryIn}${tolerated}${error}${resumes}`;
}

export function runLine(run: RunRecord, now: number): string {
  const took = formatDuration((run.finishedAt ?? now) - run.createdAt);
  const created = new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${run.id}  ${runStateText(run).padEnd(useColor ? 18 : 9)}  ${created}  ${took.padStart(8)}  ${run.name}`;
}

/** Under a waiting task: what it asks, and the exact command that answers it. */
export function waitLines(question: string, signal: string): string {
  return `      ${yellow('?')} ${oneLine(question, 200)}\n      ${dim(`answer: ${signal}`)}`;
}

/** An agent task's spend so far, for live progress: `turn 3 · 12.4k tokens`. */
export function spendText(turns: number, tokens: number): string {
  return turns ? `turn ${turns} · ${tokens >= 1000 ? `${(tokens / 1000).toFixed(1)}k` : tokens} tokens` : '';
}

/** Where a run's work went (its delivery, recorded by the git hooks): branch, pull request, and why not. */
export function resultsLines(run: RunRecord): string[] {
  const d = run.delivery ?? {};
  const lines: string[] = [];
  if (d.pullRequest) lines.push(`pull request: ${d.pullRequest.url}`);
  const { sentence } = deliverySummary(run);
  if (sentence && d.branch) lines.push(`${sentence}${d.worktree ? ` Worktree ${d.worktree}` : ''}`);
  for (const note of d.notes ?? []) lines.push(note);
  return lines;
}
