import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withEngine } from '../engine-access.ts';
import { watchStatus } from './status-watch.ts';
import { dim, runLine, runStateText, taskLine } from '../format.ts';
import { formatDuration } from '../../core/notifications/notification-builder.ts';

export interface StatusOptions extends GlobalOptions {
  limit?: string;
  /** Live status until the run(s) end (see status-watch.ts). */
  watch?: boolean;
}

/** `orchestr8 status [ID]`: recent runs, or one run's tasks with state, attempt and duration. */
export async function statusCommand(id: string | undefined, options: StatusOptions): Promise<number> {
  const ctx = cliContext(options);
  if (options.watch) return watchStatus(ctx, id);
  return withEngine(
    ctx,
    async (api) => {
      const now = Date.now();
      if (!id) {
        const page = await api.list({ limit: Number(options.limit ?? 20) });
        if (ctx.json) return ctx.out(JSON.stringify(page, null, 2)), 0;
        if (page.total === 0) return ctx.out('no runs yet'), 0;
        for (const run of page.runs) ctx.out(runLine(run, now));
        if (page.total > page.runs.length) ctx.out(dim(`… ${page.total - page.runs.length} older (--limit)`));
        return 0;
      }
      const status = await api.status(id);
      if (ctx.json) return ctx.out(JSON.stringify({ ...status, usage: await api.usage(status.run.id), gates: await api.gates(status.run.id) }, null, 2)), 0;
      const { run, tasks } = status;
      ctx.out(`${run.name} · run ${run.id} · ${runStateText(run)} · ${formatDuration((run.finishedAt ?? now) - run.createdAt)}`);
      if (run.file) ctx.out(dim(`  ${run.file}`));
      for (const task of tasks) ctx.out(taskLine(task, now));
      const usage = await api.usage(run.id);
      if (usage.inputTokens + usage.outputTokens > 0) ctx.out(dim(`  tokens: ${usage.inputTokens} in · ${usage.outputTokens} out · $${usage.costUsd.toFixed(4)}`));
      return 0;
    },
    'read',
  );
}
