import { describeRequest, type Budget } from '../core/model/input-request.ts';
import type { RunRecord, TaskRecord } from '../core/model/records.ts';
import type { UsageTotals } from '../core/engine/engine-api.ts';
import { dim, yellow } from './format.ts';
import { formatDuration, oneLine } from '../core/util/text-format.ts';

/** The commands that answer a task's request, as `status` prints them and `--json` lists them. */
export function answerCommands(task: TaskRecord): { approve: string; deny: string } {
  if (task.request?.kind === 'budget') return { approve: `orchestr8 approve ${task.id} [--raise-usd N] [--raise-tokens N]`, deny: `orchestr8 deny ${task.id}` };
  return { approve: `orchestr8 approve ${task.id} [--always]`, deny: `orchestr8 deny ${task.id} [--reason TEXT]` };
}

/** Under a task in `needs-input`: what it asks and how to answer. */
export function requestLines(task: TaskRecord): string {
  if (!task.request) return '';
  const { approve, deny } = answerCommands(task);
  return `      ${yellow('?')} ${oneLine(describeRequest(task.request), 200)}\n      ${dim(`answer: ${approve} | ${deny}`)}`;
}

/** `$0.0412 / $0.50 · 10.2k / 50k tokens`: what a task or run spent against its budget. */
export function budgetText(budget: Budget | undefined, usage: UsageTotals): string {
  if (!budget) return '';
  const tokens = usage.inputTokens + usage.outputTokens + usage.cacheWriteTokens + usage.cacheReadTokens;
  const parts: string[] = [];
  if (budget.usd !== undefined) parts.push(`$${usage.costUsd.toFixed(4)} / $${budget.usd}`);
  if (budget.tokens !== undefined) parts.push(`${tokens} / ${budget.tokens} tokens`);
  return `budget ${parts.join(' · ')}`;
}

/** Why a run is paused and when it goes on. */
export function pauseText(run: RunRecord, now: number): string {
  if (run.state !== 'paused' || !run.pause) return '';
  const until = run.pause.until !== undefined ? `resumes in ${formatDuration(Math.max(0, run.pause.until - now))}` : `resume: orchestr8 resume ${run.id}`;
  return `paused: ${run.pause.reason} · ${until}`;
}
