import { describeBudget, describeRequest, type Budget, type InputAnswer, type InputReply, type InputRequest } from '../model/input-request.ts';
import type { TaskRecord } from '../model/records.ts';
import type { ActiveRun } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import { ConflictError } from './errors.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';
import { formatDuration } from '../util/text-format.ts';

/**
 * Tasks parked in `needs-input`: parks them (their attempt stopped on a question), applies the
 * user's answer (a permission allowed once or for the run, denied with a reason; a budget raised
 * or the task stopped) and denies what nobody answers within `inputTimeoutMs`.
 */
export class InputRequests {
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(private readonly core: EngineCore) {}

  /** The running attempt asked `request`: the task parks (the log says what it asks and how to answer). */
  park(active: ActiveRun, batch: Batch, task: TaskRecord, request: InputRequest, now: number): void {
    const parked = moves.park(batch, active, task, request, now);
    const { logs, logger } = this.core.deps;
    const how =
      request.kind === 'permission'
        ? `orchestr8 approve ${task.id} [--always] | orchestr8 deny ${task.id} [--reason TEXT]`
        : `orchestr8 approve ${task.id} [--raise-usd N] | orchestr8 deny ${task.id}`;
    const line = `--- needs input: ${describeRequest(request)} · answer: ${how} · ${new Date(now).toISOString()} ---\n`;
    batch.afterCommit(() => {
      logs.note(active.run.id, task.key, line, logger);
      this.armTimeout(active, parked);
    });
  }

  /** After a restart: a parked task's request still times out, counted from when it was asked. */
  armTimeout(active: ActiveRun, task: TaskRecord): void {
    const { inputTimeoutMs, clock } = this.core.deps;
    const request = task.request;
    if (!inputTimeoutMs || !request) return;
    this.timers.get(task.id)?.cancel();
    const left = Math.max(0, request.askedAt + inputTimeoutMs - clock.now());
    this.timers.set(
      task.id,
      clock.setTimeout(() => {
        this.timers.delete(task.id);
        const current = active.tasks.get(task.key);
        if (current?.state !== 'needs-input' || current.request?.id !== request.id || this.core.state !== 'running') return;
        const reason = `no answer within ${formatDuration(inputTimeoutMs)}`;
        this.answer(active, current, { decision: 'deny', reason })
          .then(() => this.core.scheduler.pump())
          .catch((error) => this.core.fatal(error));
      }, left),
    );
  }

  /** Applies the user's answer to the task's open request and commits it. */
  async answer(active: ActiveRun, task: TaskRecord, reply: InputReply): Promise<void> {
    const request = task.request;
    if (task.state !== 'needs-input' || !request) throw new ConflictError(`task ${task.id} asks nothing (it is ${task.state})`);
    const core = this.core;
    const now = core.deps.clock.now();
    this.timers.get(task.id)?.cancel();
    this.timers.delete(task.id);
    const answer: InputAnswer = { requestId: request.id, decision: reply.decision, answeredAt: now };
    if (reply.always) answer.always = true;
    if (reply.reason) answer.reason = reply.reason;
    if (reply.raise) answer.raise = reply.raise;
    const batch = new Batch();
    const said =
      reply.decision === 'allow'
        ? reply.always
          ? 'allowed for this run'
          : request.kind === 'budget'
            ? 'budget raised'
            : 'allowed once'
        : `denied${reply.reason ? `: ${reply.reason}` : ''}`;
    batch.afterCommit(() => core.deps.logs.note(active.run.id, task.key, `--- ${said} · ${new Date(now).toISOString()} ---\n`, core.deps.logger));
    if (request.kind === 'budget' && reply.decision === 'deny') {
      moves.fail(batch, active, task, now, `stopped at its budget: ${describeBudget(request)}${reply.reason ? ` (${reply.reason})` : ''}`);
    } else {
      let answered = task;
      if (request.kind === 'permission' && reply.decision === 'allow' && reply.always && !(active.run.allowed ?? []).includes(request.rule)) {
        moves.updateRun(batch, active, { ...active.run, allowed: [...(active.run.allowed ?? []), request.rule] });
      }
      if (request.kind === 'budget' && reply.decision === 'allow') {
        const raised = raise(request.budget, reply.raise);
        if (request.scope === 'run') moves.updateRun(batch, active, { ...active.run, budget: raised });
        else answered = { ...task, budget: raised };
      }
      core.scheduler.enqueue(active, moves.answer(batch, active, answered, answer, now), batch, now);
    }
    core.scheduler.progress(active, batch, now);
    await core.commit(batch);
  }

  /** Closing: no request times out any more. */
  cancelTimers(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}

/** The budget after raising it by `by`; nothing said: by the budget again (doubling it). */
export function raise(budget: Budget, by: Budget | undefined): Budget {
  const step = by && (by.usd !== undefined || by.tokens !== undefined) ? by : budget;
  const out: Budget = {};
  if (budget.usd !== undefined || step.usd !== undefined) out.usd = (budget.usd ?? 0) + (step.usd ?? 0);
  if (budget.tokens !== undefined || step.tokens !== undefined) out.tokens = (budget.tokens ?? 0) + (step.tokens ?? 0);
  return out;
}
