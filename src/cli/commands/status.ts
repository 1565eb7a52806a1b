import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withReader } from '../state-reader.ts';
import { watchStatus } from './status-watch.ts';
import { dim, resultsLines, runLine, runStateText, taskLine, waitLines } from '../format.ts';
import { signalCommand, waitQuestion } from '../../core/engine/wait-question.ts';
import { answerCommands, budgetText, pauseText, requestLines } from '../needs-input-text.ts';
import { deepLink } from '../../core/model/deep-link.ts';
import { formatDuration } from '../../core/util/text-format.ts';

export interface StatusOptions extends GlobalOptions {
  limit?: string;
  /** Live status until the run(s) end (see status-watch.ts). */
  watch?: boolean;
}

/** `orchestr8 status [ID]`: recent runs, or one run's tasks with state, attempt and duration. */
export async function statusCommand(id: string | undefined, options: StatusOptions): Promise<number> {
  const ctx = cliContext(options);
  if (options.watch) return watchStatus(ctx, id);
  return withReader(ctx, async (api) => {
    const now = Date.now();
    if (!id) {
      const page = await api.list({ limit: Number(options.limit ?? 20) });
      if (ctx.json) return (ctx.out(JSON.stringify(page, null, 2)), 0);
      if (page.total === 0) return (ctx.out('no runs yet'), 0);
      for (const run of page.runs) ctx.out(runLine(run, now));
      if (page.total > page.runs.length) ctx.out(dim(`… ${page.total - page.runs.length} older (--limit)`));
      return 0;
    }
    const { run, tasks } = await api.status(id);
    const usage = await api.usage(run.id);
    const taskUsage = await Promise.all(tasks.map((t) => api.usage(t.id)));
    const waits = await Promise.all(tasks.filter((t) => t.state === 'waiting').map(async (t) => ({ task: t, question: await waitQuestion(api, run, t) })));
    if (ctx.json) {
      const withUsage = tasks.map((t, i) => ({ ...t, usage: taskUsage[i] }));
      const waiting = waits.map((w) => ({ taskId: w.task.id, question: w.question, signal: signalCommand(w.task) }));
      const needsInput = tasks.filter((t) => t.state === 'needs-input' && t.request).map((t) => ({ taskId: t.id, request: t.request, ...answerCommands(t) }));
      const gates = await api.gates(run.id);
      return (ctx.out(JSON.stringify({ run, tasks: withUsage, usage, gates, waiting, needsInput, link: deepLink({ runId: run.id }) }, null, 2)), 0);
    }
    ctx.out(`${run.name} · run ${run.id} · ${runStateText(run)} · ${formatDuration((run.finishedAt ?? now) - run.createdAt)}`);
    if (run.file) ctx.out(dim(`  ${run.file}`));
    const paused = pauseText(run, now);
    if (paused) ctx.out(`  ${paused}`);
    for (const [i, task] of tasks.entries()) {
      ctx.out(taskLine(task, now, undefined, budgetText(task.budget, taskUsage[i]!)));
      if (task.state === 'needs-input') ctx.out(requestLines(task));
      const wait = waits.find((w) => w.task === task);
      if (wait) ctx.out(waitLines(wait.question, signalCommand(wait.task)));
    }
    if (usage.inputTokens + usage.outputTokens > 0) {
      ctx.out(dim(`  tokens: ${usage.inputTokens} in · ${usage.outputTokens} out · $${usage.costUsd.toFixed(4)}`));
    }
    if (run.budget) ctx.out(dim(`  run ${budgetText(run.budget, usage)}`));
    for (const line of resultsLines(run)) ctx.out(dim(`  ${line}`));
    ctx.out(dim(`  open in VS Code: ${deepLink({ runId: run.id })}`));
    return 0;
  });
}
