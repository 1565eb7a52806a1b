import { deliverySummary } from '../../core/git/delivery-summary.ts';
import type { UsageTotals } from '../../core/engine/engine-api.ts';
import type { RunRecord, TaskRecord, TaskResult } from '../../core/model/records.ts';
import { codeFence, escapeMarkdown, formatTime, formatTokens } from './format.ts';
import { dagOrder, describeAction } from './tree-items.ts';
import { formatDuration } from '../../core/util/text-format.ts';

/** Markdown of the read-only documents under `orchestr8:`. */

function taskTitle(task: TaskRecord): string {
  return escapeMarkdown(task.name || task.key);
}

function tookLine(task: TaskRecord, now: number): string {
  if (task.startedAt === undefined) return task.state;
  const took = formatDuration((task.finishedAt ?? now) - task.startedAt);
  return task.finishedAt !== undefined ? `${task.state} in ${took}` : `${task.state} for ${took}`;
}

/** Agent output is markdown already; shell output is shown verbatim in a fence. */
function outputBlock(task: TaskRecord, result: TaskResult): string {
  if (!result.output.trim()) return '_(no output)_';
  return task.action.kind === 'agent' ? result.output : codeFence(result.output, 'text');
}

export function renderResult(run: RunRecord, task: TaskRecord, result: TaskResult | undefined, usage: UsageTotals | undefined, now: number): string {
  const lines = [
    `# ${taskTitle(task)} — result`,
    '',
    `Run **${escapeMarkdown(run.name)}** \`${run.id}\` · task \`${task.key}\` · ` +
      `${tookLine(task, now)}${result?.exitCode !== undefined ? ` · exit ${result.exitCode}` : ''}`,
    '',
    `Action: ${describeAction(task.action)}`,
  ];
  if (usage && usage.inputTokens + usage.outputTokens > 0) {
    lines.push('', `Tokens: ${formatTokens(usage.inputTokens)} in, ${formatTokens(usage.outputTokens)} out · $${usage.costUsd.toFixed(4)}`);
  }
  lines.push('');
  if (result) lines.push(outputBlock(task, result));
  else if (task.state === 'failed') lines.push(`The task failed${task.error ? ':' : '.'}`, ...(task.error ? ['', codeFence(task.error, 'text')] : []));
  else lines.push(`_No result yet: the task is ${task.state}._`);
  return `${lines.join('\n')}\n`;
}

export function renderLog(task: TaskRecord, log: string, now: number): string {
  const live = task.state === 'running' || task.state === 'queued' || task.state === 'waiting' || task.state === 'pending';
  const lines = [
    `# ${taskTitle(task)} — log`,
    '',
    `Task \`${task.id}\` · ${tookLine(task, now)}${task.attempt > 1 ? ` · attempt ${task.attempt}` : ''}${live ? ' · updates live' : ''}`,
    '',
    log ? codeFence(log, 'text') : '_(nothing logged yet)_',
  ];
  if (task.error) lines.push('', `**Error:** ${escapeMarkdown(task.error)}`);
  return `${lines.join('\n')}\n`;
}

/** All of a run: a table of its tasks, then each completed task's result. */
export function renderRunSummary(
  run: RunRecord,
  tasks: readonly TaskRecord[],
  results: ReadonlyMap<string, TaskResult>,
  now: number,
  usage?: UsageTotals,
): string {
  const took = formatDuration((run.finishedAt ?? now) - run.createdAt);
  const lines = [
    `# ${escapeMarkdown(run.name)}`,
    '',
    `Run \`${run.id}\` · ${run.state} · ${run.finishedAt !== undefined ? 'took' : 'running for'} ${took} · started ${formatTime(run.createdAt)}`,
  ];
  if (usage && usage.inputTokens + usage.outputTokens > 0) {
    lines.push('', `Tokens: ${formatTokens(usage.inputTokens)} in, ${formatTokens(usage.outputTokens)} out · $${usage.costUsd.toFixed(4)}`);
  }
  const code = deliverySummary(run);
  if (code.lines.length) {
    lines.push('', '## Code', '', ...code.lines.map((l) => `- ${l}`));
    // The notes say why something did not happen (no remote, no session, uncommitted files not seen).
    for (const note of run.delivery?.notes ?? []) lines.push(`- ${escapeMarkdown(note)}`);
  }
  const inputs = Object.entries(run.inputs);
  if (inputs.length) {
    lines.push('', '## Inputs', '', ...inputs.map(([k, v]) => `- **${escapeMarkdown(k)}**: ${escapeMarkdown(v)}`));
  }
  const ordered = dagOrder(tasks);
  lines.push('', '## Tasks', '', '| Task | State | Took | Attempts |', '| --- | --- | --- | --- |');
  for (const t of ordered) {
    const dur = t.startedAt !== undefined ? formatDuration((t.finishedAt ?? now) - t.startedAt) : '';
    lines.push(`| ${taskTitle(t)} | ${t.state} | ${dur} | ${t.attempt} |`);
  }
  for (const t of ordered) {
    const result = results.get(t.id);
    if (!result && t.state !== 'failed') continue;
    lines.push('', `## ${taskTitle(t)}`, '');
    if (result) lines.push(outputBlock(t, result));
    else lines.push(t.error ? codeFence(t.error, 'text') : '_failed_');
  }
  return `${lines.join('\n')}\n`;
}
