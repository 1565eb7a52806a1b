import path from 'node:path';
import type { EngineEvent } from '../../core/model/events.ts';
import type { RunRecord } from '../../core/model/records.ts';
import { newRunId } from '../../core/util/ids.ts';
import { resolveInputs } from '../../core/workflow/inputs.ts';
import { loadWorkflowFile } from '../../core/workflow/parse-workflow.ts';
import { launchInBackground } from '../background-owner.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';
import { openOwner, type OwnedState } from '../engine-access.ts';
import { untilIdle } from './serve.ts';
import { dim, resultsLines } from '../format.ts';
import { ProgressView } from '../progress-view.ts';
import { parseInputs } from './inputs-option.ts';

export interface RunOptions extends GlobalOptions {
  input: string[];
  detach?: boolean;
  concurrency?: string;
}

/** `orchestr8 run FILE`: live progress until the run ends (exit 0 only if it completed), or `--detach`. */
export async function runCommand(file: string, options: RunOptions): Promise<number> {
  const ctx = cliContext(options);
  const workflow = await loadWorkflowFile(path.resolve(file));
  const inputs = parseInputs(options.input);
  resolveInputs(workflow, inputs); // report input errors before anything starts
  const request = { workflow, inputs, cwd: ctx.projectRoot, id: newRunId() };

  if (options.detach) {
    const result = await launchInBackground(ctx, request);
    ctx.out(ctx.json ? JSON.stringify(result) : `Started ${workflow.name} (run ${result.runId}) in the background\n  status: orchestr8 status ${result.runId}`);
    return ExitCode.ok;
  }

  const owned = await openOwner(ctx, options.concurrency ? { concurrency: Number(options.concurrency) } : {});
  const { engine } = owned;
  let view: ProgressView | undefined;
  const finished = new Promise<RunRecord>((resolve) => {
    engine.onEvent((event: EngineEvent) => {
      view?.update(event);
      if ((event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled') && event.run.id === request.id) resolve(event.run);
    });
  });
  const interrupt = () => void engine.cancel(request.id).catch(() => {});
  process.once('SIGINT', interrupt);
  try {
    await engine.launch(request);
    const status = await engine.status(request.id);
    if (!ctx.json) view = new ProgressView(status.run, status.tasks);
    const run = await finished;
    view?.finish();
    // The branch, push and pull request of the run are part of what it did.
    await engine.whenFinalized(run.id);
    const final = await engine.status(run.id);
    // Seen here in the terminal: no "while you were away" for it later.
    const mine = (await engine.undeliveredNotifications()).filter((n) => n.runId === run.id);
    await engine.markDelivered(mine.map((n) => n.id));
    if (ctx.json) ctx.out(JSON.stringify(final, null, 2));
    else for (const line of resultsLines(final.run)) ctx.out(dim(`  ${line}`));
    await finishOthers(owned);
    return run.state === 'completed' ? ExitCode.ok : ExitCode.failed;
  } finally {
    process.off('SIGINT', interrupt);
    await owned.close();
  }
}

/**
 * Runs that other processes launched here through the local API while ours ran are
 * finished before exiting (an interrupt stops at once; the next owner resumes them).
 */
async function finishOthers(owned: OwnedState): Promise<void> {
  await owned.api?.close();
  const others = owned.engine.activeRunCount;
  if (others === 0) return;
  process.stderr.write(`orchestr8: finishing ${others} other run(s) launched through the local API (Ctrl-C leaves them to the next owner)\n`);
  let stop: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await Promise.race([untilIdle(owned.engine), interrupted]);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
