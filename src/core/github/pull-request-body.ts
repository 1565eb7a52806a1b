import type { UsageTotals } from '../engine/engine-api.ts';
import { actionLabel } from '../model/action-label.ts';
import { deepLink } from '../model/deep-link.ts';
import type { QualityGateRecord, RunRecord, TaskRecord } from '../model/records.ts';
import { formatDuration } from '../util/text-format.ts';

/** Everything the pull request body reports about a run. */
export interface RunSummary {
  run: RunRecord;
  tasks: TaskRecord[];
  gates: QualityGateRecord[];
  usage: UsageTotals;
  /** Per task id, when known. */
  taskUsage?: Record<string, UsageTotals>;
}

/** Markdown table cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const VERDICT: Record<QualityGateRecord['verdict'], string> = { pass: '✅ pass', fail: '❌ fail', warn: '⚠️ warn' };

export function pullRequestTitle(run: RunRecord): string {
  return `Orchestr8: ${run.name}`;
}

/** The pull request body: tasks, quality-gate verdicts, tokens, cost and duration of the run. */
export function pullRequestBody(summary: RunSummary): string {
  const { run, tasks, gates, usage } = summary;
  const duration = (run.finishedAt ?? Date.now()) - run.createdAt;
  const lines: string[] = [];
  lines.push(`Changes made by the Orchestr8 workflow **${cell(run.name)}** (run \`${run.id}\`).`);
  if (run.description) lines.push('', run.description);
  lines.push('', '| Task | Kind | State | Duration | Tokens (in / out) | Cost |', '|---|---|---|---|---|---|');
  for (const t of tasks) {
    const u = summary.taskUsage?.[t.id];
    const d = t.startedAt && t.finishedAt ? formatDuration(t.finishedAt - t.startedAt) : '—';
    const tok = u ? `${u.inputTokens} / ${u.outputTokens}` : '—';
    const cost = u ? `$${u.costUsd.toFixed(4)}` : '—';
    lines.push(`| ${cell(t.name)} | ${cell(actionLabel(t.action))} | ${t.state} | ${d} | ${tok} | ${cost} |`);
  }
  // Continue… prompts, newest last: the description is written again once they are done.
  const followUps = tasks.filter((t) => t.followUps?.length);
  if (followUps.length) {
    lines.push('', '### Follow-ups', '');
    for (const t of followUps)
      for (const prompt of t.followUps!) lines.push(`- ${cell(t.name)}: ${cell(prompt.length > 300 ? `${prompt.slice(0, 299)}…` : prompt)}`);
  }
  lines.push('', '### Quality gates');
  if (gates.length === 0) lines.push('', 'No quality gates ran.');
  else {
    lines.push('', '| Gate | Task | Verdict |', '|---|---|---|');
    for (const g of gates) lines.push(`| ${cell(g.gate)} | ${cell(g.taskId)} | ${VERDICT[g.verdict]} |`);
  }
  lines.push(
    '',
    '### Totals',
    '',
    `- Duration: ${formatDuration(duration)}`,
    `- Tokens: ${usage.inputTokens} in, ${usage.outputTokens} out, ${usage.cacheReadTokens} cache read, ${usage.cacheWriteTokens} cache write`,
    `- Cost: $${usage.costUsd.toFixed(4)}`,
    // GitHub keeps only http(s) links clickable: a code span, to copy into the browser's address bar.
    `- Open the run in VS Code: \`${deepLink({ runId: run.id })}\``,
  );
  return `${lines.join('\n')}\n`;
}
