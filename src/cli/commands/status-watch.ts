import fs from 'node:fs';
import { ReadOnlyEngine } from '../../core/engine/read-only-engine.ts';
import type { EngineEvent } from '../../core/model/events.ts';
import type { RunRecord } from '../../core/model/records.ts';
import { liveOwner } from '../../core/store/state-lock.ts';
import type { CliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { dim, runLine, taskLine } from '../format.ts';
import { ProgressView } from '../progress-view.ts';

const isRunEnd = (event: EngineEvent): event is Extract<EngineEvent, { type: 'workflow.completed' | 'workflow.failed' | 'workflow.cancelled' }> =>
  event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled';

/**
 * `orchestr8 status --watch [ID]`: live status until the run (or, without an id, every
 * running run) ends. It follows the owner's journal (no store is reopened, nothing polled):
 * one run redraws like `orchestr8 run`; all runs print a line per transition; `--json`
 * prints each event as a line of JSON. Exits 0 when the run(s) completed, 1 otherwise.
 */
export async function watchStatus(ctx: CliContext, id: string | undefined): Promise<number> {
  if (!fs.existsSync(ctx.stateDir)) throw new CliError(`no runs yet (no state in ${ctx.stateDir})`, ExitCode.notFound);
  const reader = await ReadOnlyEngine.open(ctx.stateDir, { logger: ctx.logger, follow: true });
  // The follower never holds the process open by itself: this does, until the watch ends.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    // Whether anyone runs them, asked before taking in the journal: an owner that finishes meanwhile has written so by then.
    const ownerLive = liveOwner(ctx.stateDir) !== undefined;
    await reader.refresh();
    const watched = id ? [(await reader.status(id)).run.id] : (await reader.list({ states: ['running'], limit: 1000 })).runs.map((r) => r.id);
    const view = id && !ctx.json ? await progressOf(reader, watched[0]!) : undefined;
    if (!id && !ctx.json) for (const run of (await reader.list({ limit: 20 })).runs) ctx.out(runLine(run, Date.now()));
    const ended = new Map<string, RunRecord>();
    const finished = new Promise<void>((resolve) => {
      const check = async () => {
        for (const runId of watched) {
          if (ended.has(runId)) continue;
          const { run } = await reader.status(runId);
          if (run.state !== 'running') ended.set(runId, run);
        }
        if (ended.size === watched.length) resolve();
      };
      reader.onEvent((event) => {
        if (ctx.json) ctx.out(JSON.stringify(event));
        else if (view) view.update(event);
        else if ('task' in event && event.type !== 'task.queued' && watched.includes(event.task.runId)) ctx.out(taskLine(event.task, Date.now()));
        else if (isRunEnd(event) && watched.includes(event.run.id)) ctx.out(runLine(event.run, Date.now()));
        if (isRunEnd(event) && watched.includes(event.run.id)) ended.set(event.run.id, event.run);
        if (ended.size === watched.length) resolve();
      });
      // Folded away before it could be followed: the reloaded view says where the runs are now.
      reader.onDidReload(() => void check());
      void check();
    });
    if (!ctx.json && !ownerLive && watched.length > ended.size)
      ctx.out(dim('  nobody runs these now: they resume when an owner opens the state (VS Code, orchestr8 run, orchestr8 mcp)'));
    await finished;
    view?.finish();
    return [...ended.values()].every((run) => run.state === 'completed') ? ExitCode.ok : ExitCode.failed;
  } finally {
    clearInterval(keepAlive);
    await reader.close();
  }
}

async function progressOf(reader: ReadOnlyEngine, runId: string): Promise<ProgressView> {
  const { run, tasks } = await reader.status(runId);
  return new ProgressView(run, tasks);
}
