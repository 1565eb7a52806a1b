import type { TaskAction } from '../model/workflow.ts';
import type { TaskRecord, TaskResult } from '../model/records.ts';
import type { TaskContext, TaskOutput } from '../runners/task-runner.ts';
import { MergeConflictError, NeedsInput, PauseRun, TaskError, abortReason } from '../runners/task-runner.ts';
import { attemptsSpent, backoffDelay, hasAttemptsLeft } from '../scheduler/backoff.ts';
import { taskId } from '../util/ids.ts';
import { errorMessage } from '../util/logger.ts';
import { InterpolationError, interpolateAction, resultReferences } from '../workflow/interpolate.ts';
import type { ActiveRun } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import type { PreparedTask } from './run-hooks.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';
import type { TaskLogWriter } from './task-logs.ts';
import { formatDuration } from '../util/text-format.ts';

/** One attempt under way in this process. */
interface Execution {
  controller: AbortController;
  log: TaskLogWriter;
  timer?: { cancel(): void };
  done: Promise<void>;
}

/**
 * Supervises attempts: starts one on the executor, times it out, aborts it (cancel, shutdown),
 * settles its outcome (complete, retry later, fail, or put back on shutdown), and times out
 * wait tasks nobody signals.
 */
export class Attempts {
  private readonly executions = new Map<string, Execution>();
  private readonly waitTimers = new Map<string, { cancel(): void }>();
  /**
   * Attempts started whose start is still being written: the executor has not seen them yet,
   * so its free slots do not count them, and the scheduler must (else every pass before the
   * write lands would fill the whole window again).
   */
  handingOver = 0;

  constructor(private readonly core: EngineCore) {}

  /**
   * Starts an attempt: its start record goes in `batch` when one is about to be committed (it
   * then shares that fsync), else in a batch of its own; the executor gets it once it is durable.
   */
  start(active: ActiveRun, queued: TaskRecord, batch?: Batch): void {
    const now = this.core.deps.clock.now();
    const own = batch ?? new Batch();
    const task = moves.start(own, active, queued, now, process.pid);
    const resumed = queued.interrupted === undefined ? '' : ` (resumed after interruption ${task.interruptions})`;
    this.execute(active, task, `--- attempt ${task.attempt}${resumed} · ${new Date(now).toISOString()} ---\n`, batch ? batch.durable : this.core.commit(own));
  }

  /** A task left running by a previous owner whose executor runs tasks elsewhere: wait for the same attempt again. */
  reattach(active: ActiveRun, task: TaskRecord): void {
    const now = this.core.deps.clock.now();
    this.execute(active, task, `--- attempt ${task.attempt} · re-attached after a restart · ${new Date(now).toISOString()} ---\n`, Promise.resolve());
  }

  /** Stops the task's attempt or wait (cancel): its outcome, if one still comes, is ignored. */
  cancel(task: TaskRecord): void {
    this.executions.get(task.id)?.controller.abort('cancelled');
    this.waitTimers.get(task.id)?.cancel();
  }

  /** A wait task was signalled: its timeout no longer applies. */
  signalled(task: TaskRecord): void {
    this.waitTimers.get(task.id)?.cancel();
    this.waitTimers.delete(task.id);
  }

  abortAll(reason: 'shutdown'): void {
    for (const execution of this.executions.values()) execution.controller.abort(reason);
  }

  /** Closing: no timer fires, every attempt is told to stop; resolves when they have, or after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    for (const timer of this.waitTimers.values()) timer.cancel();
    this.abortAll('shutdown');
    await Promise.race([Promise.all([...this.executions.values()].map((e) => e.done)), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private execute(active: ActiveRun, task: TaskRecord, header: string, started: Promise<void>): void {
    const { clock, executor } = this.core.deps;
    active.running++;
    const controller = new AbortController();
    const log = this.core.deps.logs.open(active.run.id, task.key, header);
    const execution: Execution = { controller, log, done: Promise.resolve() };
    this.executions.set(task.id, execution);
    if (task.timeoutMs) {
      const left = Math.max(0, (task.startedAt ?? clock.now()) + task.timeoutMs - clock.now());
      execution.timer = clock.setTimeout(() => controller.abort('timeout'), left);
    }
    this.handingOver++;
    execution.done = started
      .then(
        async () => {
          let context: TaskContext & { placed?: PreparedTask };
          try {
            context = await this.context(active, task, controller.signal, log);
          } finally {
            this.handingOver--; // in the same turn as the executor takes it: no pass sees the slot twice
          }
          const { placed, ...ctx } = context;
          return placed?.done ?? executor.execute(placed?.cwd ? { ...ctx, cwd: placed.cwd } : ctx);
        },
        (error: unknown) => {
          this.handingOver--;
          throw error;
        },
      )
      .then(
        (output) => this.settle(active, task, { output }),
        (error: unknown) => this.settle(active, task, { error }),
      )
      .catch((error) => this.core.fatal(error));
  }

  /** A wait task's log says what it asks (references filled in) and the command that answers it, once it waits durably. */
  async noteWaiting(active: ActiveRun, task: TaskRecord): Promise<void> {
    const { logs, logger, clock } = this.core.deps;
    let question = task.action.kind === 'wait' ? (task.action.message ?? '') : '';
    try {
      const action = interpolateAction(task.action, await this.scope(active, task));
      if (action.kind === 'wait') question = action.message ?? '';
    } catch {
      // a reference without a value yet: the question as written
    }
    const asks = question ? `${question.replace(/\s+/g, ' ').trim()} · ` : '';
    logs.note(
      active.run.id,
      task.key,
      `--- waiting for a signal: ${asks}answer: orchestr8 signal ${task.id} [PAYLOAD] · ${new Date(clock.now()).toISOString()} ---\n`,
      logger,
    );
  }

  /** What an action's references resolve against: the run's inputs and, read first (from the index) only, the results it names. */
  private async scope(active: ActiveRun, task: TaskRecord): Promise<{ inputs: Record<string, string>; result: (key: string) => string | undefined }> {
    const run = active.run;
    const keys = resultReferences(task.action);
    const outputs = new Map(await Promise.all(keys.map(async (key) => [key, (await this.core.deps.reads.getResult(taskId(run.id, key)))?.output] as const)));
    return { inputs: run.inputs, result: (key) => outputs.get(key) };
  }

  /** Where the attempt works (a worktree of its own) or the work it already did, from the prepareTask hooks. */
  private async place(active: ActiveRun, task: TaskRecord): Promise<PreparedTask | undefined> {
    let placed: PreparedTask | undefined;
    for (const hook of this.core.deps.hooks) {
      const p = await hook.prepareTask?.(active.run, task, this.core.deps.hookContext);
      if (p) placed = { ...placed, ...p };
    }
    return placed;
  }

  private async context(active: ActiveRun, task: TaskRecord, signal: AbortSignal, log: TaskLogWriter): Promise<TaskContext & { placed?: PreparedTask }> {
    const core = this.core;
    const { clock, reads } = core.deps;
    const run = active.run;
    const scope = await this.scope(active, task);
    const placed = core.deps.hooks.some((h) => h.prepareTask) ? await this.place(active, task) : undefined;
    let action: TaskAction;
    try {
      action = interpolateAction(task.action, scope);
    } catch (error) {
      // A reference that cannot be resolved will not resolve on a retry either.
      if (error instanceof InterpolationError) throw new TaskError(error.message, false);
      throw error;
    }
    return {
      task,
      run,
      action,
      cwd: run.cwd,
      placed,
      signal,
      logger: core.deps.logger,
      subTasks: core.deps.api,
      log: (text) => {
        log.write(text);
        core.events.fire({ type: 'task.progress', taskId: task.id, runId: run.id, text });
      },
      setPid: (pid) => {
        const current = active.tasks.get(task.key);
        if (current?.state !== 'running' || current.attempt !== task.attempt) return;
        const batch = new Batch();
        moves.attachProcess(batch, active, current, clock.now(), pid);
        core.commit(batch).catch((error) => core.fatal(error));
      },
      noteSandboxed: (sandboxed) => {
        const current = active.tasks.get(task.key);
        if (current?.state !== 'running' || current.attempt !== task.attempt || current.sandboxed === sandboxed) return;
        const batch = new Batch();
        moves.noteSandboxed(batch, active, current, clock.now(), sandboxed);
        core.commit(batch).catch((error) => core.fatal(error));
      },
      loadCheckpoint: async () => (active.uncheckpointed?.has(task.key) ? undefined : (await reads.checkpoint(task.id))?.state),
      saveCheckpoint: (state) => {
        active.uncheckpointed?.delete(task.key);
        return core.commit(Batch.of([{ t: 'checkpoint', checkpoint: { taskId: task.id, attempt: task.attempt, state, updatedAt: clock.now() } }]));
      },
      recordUsage: (usage) => core.commit(Batch.of([{ t: 'usage', usage: { ...usage, taskId: task.id, runId: run.id, createdAt: clock.now() } }])),
      spent: (scope) => core.deps.api.usage(scope === 'task' ? task.id : run.id),
      runPaused: () => active.run.state === 'paused',
      recordGate: (gate) => core.commit(Batch.of([{ t: 'gate', gate: { ...gate, taskId: task.id, runId: run.id, createdAt: clock.now() } }])),
    };
  }

  /** One attempt ended: complete, retry later, fail, or (on shutdown) put back without using the attempt. */
  private async settle(active: ActiveRun, started: TaskRecord, outcome: { output: TaskOutput } | { error: unknown }): Promise<void> {
    const core = this.core;
    const { clock, hooks, executor } = core.deps;
    const execution = this.executions.get(started.id);
    execution?.timer?.cancel();
    execution?.log.close();
    this.executions.delete(started.id);
    active.running--;
    core.scheduler.release(active);
    const current = active.tasks.get(started.key);
    // Cancelled (or reset) while it ran: the outcome of this attempt no longer matters.
    if (current?.state !== 'running' || current.attempt !== started.attempt) return core.scheduler.pump();

    let outcomeOrError = outcome;
    if ('output' in outcome && hooks.length) {
      try {
        for (const hook of hooks) {
          await hook.taskCompleted?.(active.run, current, resultOf(current, outcome.output, clock.now()), core.deps.hookContext);
        }
      } catch (error) {
        // A merge conflict is the task's own failure, with the files it names; anything else is said as is.
        outcomeOrError = { error: error instanceof MergeConflictError ? error : new TaskError(`after the task: ${errorMessage(error)}`) };
      }
    }

    const now = clock.now();
    const batch = new Batch();
    if ('output' in outcomeOrError) {
      moves.complete(batch, active, current, resultOf(current, outcomeOrError.output, now), now);
    } else {
      const reason = execution ? abortReason(execution.controller.signal) : undefined;
      if (reason === 'shutdown' && executor.outlivesEngine) {
        return; // still running elsewhere: the next owner re-attaches to it (see recover)
      } else if (reason === 'shutdown') {
        this.interrupt(active, batch, current, 'the engine running it shut down', now, false);
      } else if (outcomeOrError.error instanceof NeedsInput) {
        core.inputs.park(active, batch, current, outcomeOrError.error.request, now);
      } else if (outcomeOrError.error instanceof PauseRun) {
        core.pauses.hold(active, batch, current, outcomeOrError.error, now);
        core.scheduler.enqueue(active, active.tasks.get(current.key)!, batch, now);
      } else {
        const error = outcomeOrError.error;
        const message = reason === 'timeout' ? `timed out after ${current.timeoutMs} ms` : errorMessage(error);
        const retryable = reason === 'timeout' || !(error instanceof TaskError) || error.retryable;
        const again = retryable && hasAttemptsLeft(current.retry, attemptsSpent(current));
        const delay = again ? backoffDelay(current.retry, attemptsSpent(current)) : 0;
        // Said in the log too: a task that failed or timed out before printing anything would leave it empty.
        const line =
          `--- attempt ${current.attempt} failed: ${message}${again ? ` · retrying in ${formatDuration(delay)}` : ''} · ` +
          `${new Date(now).toISOString()} ---\n`;
        batch.afterCommit(() => core.deps.logs.note(active.run.id, current.key, line, core.deps.logger));
        if (again) core.scheduler.enqueue(active, moves.retryLater(batch, active, current, now, message, delay), batch, now);
        else moves.fail(batch, active, error instanceof MergeConflictError ? { ...current, mergeConflict: error.conflict } : current, now, message);
      }
    }
    if (core.state === 'running') core.scheduler.progress(active, batch, now);
    core.scheduler.pump(batch);
    await core.commit(batch);
    core.scheduler.pump();
  }

  /**
   * Interrupted (the engine running it stopped cleanly, or died: `stalled`): queued again to
   * resume the same attempt, or, stalled past the bound, failed; the log says which.
   */
  interrupt(active: ActiveRun, batch: Batch, task: TaskRecord, why: string, now: number, stalled: boolean): void {
    const { logs, logger } = this.core.deps;
    const line = `--- attempt ${task.attempt} interrupted: ${why} · ${new Date(now).toISOString()} ---\n`;
    // Written once the interruption is durable: a crash before that is not logged twice.
    batch.afterCommit(() => logs.note(active.run.id, task.key, line, logger));
    const after = moves.interrupt(batch, active, task, now, why, stalled);
    if (after.state === 'queued') this.core.scheduler.enqueue(active, after, batch, now);
  }

  armWaitTimeout(active: ActiveRun, task: TaskRecord, timeoutMs: number | undefined): void {
    if (!timeoutMs) return;
    const core = this.core;
    const { clock } = core.deps;
    const remaining = Math.max(0, (task.startedAt ?? clock.now()) + timeoutMs - clock.now());
    const timer = clock.setTimeout(() => {
      this.waitTimers.delete(task.id);
      const current = active.tasks.get(task.key);
      if (current?.state !== 'waiting' || core.state !== 'running') return;
      const now = clock.now();
      const batch = new Batch();
      moves.fail(batch, active, current, now, `no signal within ${timeoutMs} ms`);
      core.scheduler.progress(active, batch, now);
      core.scheduler.pump(batch);
      core
        .commit(batch)
        .then(() => core.scheduler.pump())
        .catch((error) => core.fatal(error));
    }, remaining);
    this.waitTimers.set(task.id, timer);
  }
}

function resultOf(task: TaskRecord, output: TaskOutput, now: number): TaskResult {
  return {
    taskId: task.id,
    runId: task.runId,
    output: output.output,
    createdAt: now,
    ...(output.data !== undefined ? { data: output.data } : {}),
    ...(output.exitCode !== undefined ? { exitCode: output.exitCode } : {}),
  };
}
