import path from 'node:path';
import type { EngineEvent } from '../../core/model/events.ts';
import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { newRunId } from '../../core/util/ids.ts';
import { resolveInputs } from '../../core/workflow/inputs.ts';
import { loadWorkflowFile } from '../../core/workflow/parse-workflow.ts';
import { launchInBackground } from '../background-owner.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';
import { openOwner, type OwnedState } from '../engine-access.ts';
import type { CliContext } from '../cli-context.ts';
import type { EngineApi, LaunchRequest } from '../../core/engine/engine-api.ts';
import { ApiClient } from '../../servers/http/api-client.ts';
import { untilIdle } from './serve.ts';
import { dim, resultsLines, spendText } from '../format.ts';
import { signalCommand, waitQuestion } from '../../core/engine/wait-question.ts';
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

  // Another process owns the state and serves the local API (VS Code, a background owner, another
  // foreground run): the run goes through it, with the same live progress here.
  const owner = await ApiClient.connect(ctx.stateDir);
  if (owner) {
    try {
      return await followToEnd(ctx, owner, request, (runId) => untilDelivered(owner, runId));
    } finally {
      owner.dispose();
    }
  }
  const owned = await openOwner(ctx, options.concurrency ? { concurrency: Number(options.concurrency) } : {});
  try {
    const code = await followToEnd(ctx, owned.engine, request, (runId) => owned.engine.whenFinalized(runId));
    await finishOthers(owned);
    return code;
  } finally {
    await owned.close();
  }
}

/** Launches the run, shows its progress until it ends (Ctrl-C cancels it), then what it delivered. */
async function followToEnd(
  ctx: CliContext,
  engine: EngineApi,
  request: LaunchRequest & { id: string },
  whenFinalized: (runId: string) => Promise<void>,
): Promise<number> {
  let view: ProgressView | undefined;
  let ended!: (run: RunRecord) => void;
  const finished = new Promise<RunRecord>((resolve) => (ended = resolve));
  const isEnd = (event: EngineEvent) =>
    (event.type === 'workflow.completed' || event.type === 'workflow.failed' || event.type === 'workflow.cancelled') && event.run.id === request.id;
  const agents = new Map<string, TaskRecord>();
  const listener = (event: EngineEvent) => {
    view?.update(event);
    if (event.type === 'task.waiting') void askFor(event.task);
    if ('task' in event && event.task.runId === request.id && event.task.action.kind === 'agent') {
      if (event.task.state === 'running') agents.set(event.task.id, event.task);
      else agents.delete(event.task.id);
    }
    if (isEnd(event)) ended((event as { run: RunRecord }).run);
  };
  const askFor = async (task: TaskRecord) => {
    if (task.runId !== request.id) return;
    const { run } = await engine.status(request.id);
    view?.ask(task, await waitQuestion(engine, run, task), signalCommand(task));
  };
  // Agent turns and tokens as they are spent (usage rows carry no event of their own).
  const spendTimer = setInterval(() => {
    for (const task of agents.values()) {
      void engine.tokenUsage(task.id).then(
        (turns) =>
          view?.spent(
            task,
            spendText(
              turns.length,
              turns.reduce((n, t) => n + t.inputTokens + t.outputTokens, 0),
            ),
          ),
        () => {},
      );
    }
  }, 1000);
  // Subscribed (and, remotely, streaming) before the launch: no event of the run can be missed.
  const sub = engine instanceof ApiClient ? engine.followEvents(listener) : engine.onEvent(listener);
  if ('connected' in sub) await sub.connected;
  const interrupt = () => void engine.cancel(request.id).catch(() => {});
  process.once('SIGINT', interrupt);
  try {
    await engine.launch(request);
    const status = await engine.status(request.id);
    if (!ctx.json) view = new ProgressView(status.run, status.tasks);
    // A wait task without needs waits from the launch on, before this view existed to hear it.
    for (const task of status.tasks) if (task.state === 'waiting') void askFor(task);
    if (status.run.state !== 'running') ended(status.run);
    const run = await finished;
    view?.finish();
    // The branch, push and pull request of the run are part of what it did.
    await whenFinalized(run.id);
    const final = await engine.status(run.id);
    // Seen here in the terminal: no "while you were away" for it later.
    const mine = (await engine.undeliveredNotifications()).filter((n) => n.runId === run.id);
    await engine.markDelivered(mine.map((n) => n.id));
    if (ctx.json) ctx.out(JSON.stringify(final, null, 2));
    else for (const line of resultsLines(final.run)) ctx.out(dim(`  ${line}`));
    return run.state === 'completed' ? ExitCode.ok : ExitCode.failed;
  } finally {
    process.off('SIGINT', interrupt);
    clearInterval(spendTimer);
    sub.dispose();
  }
}

/** A remote owner finalizes (branch, push, pull request) after the run's end: wait for it, within the owner's own grace. */
async function untilDelivered(owner: ApiClient, runId: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    if ((await owner.status(runId)).run.finalized !== false) return;
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
