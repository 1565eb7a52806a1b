import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../src/core/engine/engine.ts';
import type { InputRequest } from '../../src/core/model/input-request.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { NeedsInput, PauseRun, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';
import { nextEvent, openEngine } from '../support/engine-harness.ts';
import { AskingRunner as CrashAskingRunner } from '../support/asking-runner.ts';
import { LineProcess } from '../support/line-process.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { tempDir } from '../support/temp-dir.ts';

const AGENT = { task: { action: { kind: 'agent' as const, agent: 'scripted', prompt: 'go' } } };

/** An agent stand-in: asks `request` until an answer to it is on the task, then reports the answer. */
class AskingRunner implements TaskRunner {
  readonly kind = 'agent';
  starts = 0;
  constructor(private readonly request: (ctx: TaskContext) => InputRequest) {}
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    this.starts++;
    const request = this.request(ctx);
    const answer = ctx.task.answers?.find((a) => a.requestId === request.id);
    if (!answer) throw new NeedsInput(request);
    return { output: `${answer.decision}${answer.always ? ' always' : ''}${answer.reason ? `: ${answer.reason}` : ''}` };
  }
}

const permission = (): InputRequest => ({
  kind: 'permission',
  id: 'toolu_1',
  tool: 'Bash',
  call: 'Bash(rm -rf build)',
  rule: 'Bash(rm:*)',
  askedAt: Date.now(),
});

async function stateOf(engine: Engine, taskId: string): Promise<string> {
  return (await engine.task(taskId)).state;
}

/** The run once it has ended (a paused run has not). */
async function finished(engine: Engine, runId: string, timeoutMs = 15_000): Promise<RunRecord> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const { run } = await engine.status(runId);
    if (run.state === 'completed' || run.state === 'failed' || run.state === 'cancelled') return run;
  }
  throw new Error(`run ${runId} did not end within ${timeoutMs} ms`);
}

/**
 * Launches a one-task shell run and waits for its end: the engine starts tasks in the order it
 * queued them and journals each start before the task runs, so whatever an open or a signal
 * before it set going (a held task started, a parked one run again) has started by then. What
 * must not happen is thus checked after an event that follows it, not after a guessed sleep.
 */
async function laterRunFinished(engine: Engine): Promise<void> {
  const { runId } = await engine.launch({ task: { action: { kind: 'run', run: 'true' } } });
  assert.equal((await finished(engine, runId)).state, 'completed', 'a run of its own goes on meanwhile');
}

test('a request parks the task in needs-input (durable, with its event); allow resumes the same attempt', async () => {
  const runner = new AskingRunner(permission);
  const { engine } = await openEngine({ runners: [runner] });
  const parked = nextEvent(engine, 'task.needs-input');
  const { runId, taskIds } = await engine.launch(AGENT);
  const event = await parked;
  assert.equal(event.task.state, 'needs-input');
  assert.equal(event.task.request?.kind, 'permission');
  assert.equal(typeof event.seq, 'number', 'a durable event');
  const status = await engine.status(runId);
  assert.equal(status.run.state, 'running', 'a task asking does not end its run');
  assert.equal(status.tasks[0]!.request?.id, 'toolu_1');

  await engine.answer(taskIds[0]!, { decision: 'allow', always: true });
  const run = await finished(engine, runId);
  assert.equal(run.state, 'completed');
  assert.equal((await engine.result(taskIds[0]!))?.output, 'allow always');
  const task = await engine.task(taskIds[0]!);
  assert.equal(task.attempt, 1, 'answering resumes the parked attempt, it spends none');
  assert.equal(task.request, undefined);
  assert.deepEqual(run.allowed, ['Bash(rm:*)'], '"Allow for this run" keeps its rule on the run');
  assert.match(await engine.log(taskIds[0]!), /--- needs input: permission to run Bash\(rm -rf build\) · answer: orchestr8 approve/);
});

test('deny with a reason: the runner gets the reason; answering a task that asks nothing is a conflict', async () => {
  const { engine } = await openEngine({ runners: [new AskingRunner(permission)] });
  const parked = nextEvent(engine, 'task.needs-input');
  const { runId, taskIds } = await engine.launch(AGENT);
  await parked;
  await engine.answer(taskIds[0]!, { decision: 'deny', reason: 'use the clean script' });
  await finished(engine, runId);
  assert.equal((await engine.result(taskIds[0]!))?.output, 'deny: use the clean script');
  await assert.rejects(engine.answer(taskIds[0]!, { decision: 'allow' }), /ConflictError|not running|completed|asks nothing/);
});

test('a restart while parked keeps the task parked, asking the same, and the answer still resumes it', async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const runner = new AskingRunner(permission);
  const first = await openEngine({ stateDir, cwd, runners: [runner] });
  const parked = nextEvent(first.engine, 'task.needs-input');
  const { runId, taskIds } = await first.engine.launch(AGENT);
  await parked;
  await first.engine.close();

  const second = await openEngine({ stateDir, cwd, runners: [runner] });
  await laterRunFinished(second.engine);
  assert.equal(await stateOf(second.engine, taskIds[0]!), 'needs-input', 'still parked after the restart');
  assert.equal(runner.starts, 1, 'nothing ran (and nothing was spent) while parked');
  await second.engine.answer(taskIds[0]!, { decision: 'allow' });
  assert.equal((await finished(second.engine, runId)).state, 'completed');
  assert.equal((await second.engine.task(taskIds[0]!)).attempt, 1);
});

test('an unanswered request is denied after inputTimeoutMs, with that reason', async () => {
  const { engine } = await openEngine({ runners: [new AskingRunner(permission)], inputTimeoutMs: 300 });
  const { runId, taskIds } = await engine.launch(AGENT);
  await finished(engine, runId);
  assert.equal((await engine.result(taskIds[0]!))?.output, 'deny: no answer within 300ms');
});

test('a budget request: deny stops the task (failed, saying so); allow raises the budget on the task', async () => {
  const budget = (ctx: TaskContext): InputRequest => ({
    kind: 'budget',
    id: `budget-${ctx.task.budget?.usd ?? 1}`,
    scope: 'task',
    budget: ctx.task.budget ?? { usd: 1 },
    spent: { usd: 1.2, tokens: 900 },
    askedAt: Date.now(),
  });
  const { engine } = await openEngine({ runners: [new AskingRunner(budget)] });
  let parked = nextEvent(engine, 'task.needs-input');
  const stopped = await engine.launch(AGENT);
  await parked;
  await engine.answer(stopped.taskIds[0]!, { decision: 'deny' });
  const run = await finished(engine, stopped.runId);
  assert.equal(run.state, 'failed');
  assert.match((await engine.task(stopped.taskIds[0]!)).error ?? '', /^stopped at its budget: its budget of \$1 is spent/);

  parked = nextEvent(engine, 'task.needs-input');
  const raised = await engine.launch(AGENT);
  await parked;
  await engine.answer(raised.taskIds[0]!, { decision: 'allow', raise: { usd: 4 } });
  // Raised to $5: the stand-in asks again under the new budget's id, so the raise is on the record.
  await nextEvent(engine, 'task.needs-input', (e) => e.task.id === raised.taskIds[0]);
  assert.deepEqual((await engine.task(raised.taskIds[0]!)).budget, { usd: 5 });
});

/** Moves `clock` to 1 ms before `until` (the run stays paused), then to `until` (it resumes and completes). */
async function resumesAt(engine: Engine, clock: ManualClock, runId: string, until: number): Promise<void> {
  clock.advance(until - 1 - clock.now());
  await laterRunFinished(engine);
  assert.equal((await engine.status(runId)).run.state, 'paused', 'not resumed before its time');
  clock.advance(1);
  assert.equal((await finished(engine, runId)).state, 'completed');
}

/** Fails with PauseRun the first `times` starts (quota), then completes. */
class QuotaRunner implements TaskRunner {
  readonly kind = 'agent';
  starts = 0;
  constructor(
    private readonly times: number,
    private readonly retryAfterMs?: number,
  ) {}
  async execute(): Promise<TaskOutput> {
    if (++this.starts <= this.times) throw new PauseRun('Anthropic API overloaded (529) after 4 retries', this.retryAfterMs);
    return { output: 'done' };
  }
}

test('quota: the run pauses (durable, with why and until when), then resumes by itself after retry-after', async () => {
  // The engine's clock is the test's: the pause lasts exactly until the test moves time past it.
  const clock = new ManualClock(Date.now());
  const { engine, events } = await openEngine({ runners: [new QuotaRunner(1, 2000)], clock });
  const paused = nextEvent(engine, 'workflow.paused');
  const { runId, taskIds } = await engine.launch(AGENT);
  const event = await paused;
  assert.equal(event.run.state, 'paused');
  assert.match(event.run.pause?.reason ?? '', /overloaded/);
  assert.ok(event.run.pause?.until && event.run.pause.until - event.run.pause.since === 2000);
  assert.equal((await engine.status(runId)).run.state, 'paused');
  assert.equal((await engine.list({ states: ['paused'] })).total, 1);
  await resumesAt(engine, clock, runId, event.run.pause.until);
  assert.ok(events.some((e) => e.type === 'workflow.unpaused'));
  assert.equal((await engine.task(taskIds[0]!)).attempt, 1, 'a pause spends no attempt');
});

test('pause by hand holds new tasks; a restart keeps the run paused; resume starts them', async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const first = await openEngine({ stateDir, cwd });
  const wf = {
    workflow: {
      name: 'two',
      inputs: [],
      tasks: [
        {
          id: 'a',
          needs: [],
          action: { kind: 'wait' as const },
          retry: { max: 0, backoffMs: 0, factor: 1, maxDelayMs: 0, jitter: false },
          continueOnError: false,
          priority: 0,
        },
        {
          id: 'b',
          needs: ['a'],
          action: { kind: 'run' as const, run: 'echo b' },
          retry: { max: 0, backoffMs: 0, factor: 1, maxDelayMs: 0, jitter: false },
          continueOnError: false,
          priority: 0,
        },
      ],
    },
  };
  const { runId } = await first.engine.launch(wf);
  await first.engine.pause(runId);
  await assert.rejects(first.engine.pause(runId), /paused; nothing to pause/);
  await first.engine.signal(`${runId}.a`);
  await laterRunFinished(first.engine);
  assert.equal(await stateOf(first.engine, `${runId}.b`), 'queued', 'nothing new starts while paused');
  await first.engine.close();

  const second = await openEngine({ stateDir, cwd });
  await laterRunFinished(second.engine);
  const status = await second.engine.status(runId);
  assert.equal(status.run.state, 'paused', 'still paused after a restart');
  assert.equal(status.tasks[1]!.state, 'queued');
  await second.engine.resume(runId);
  assert.equal((await finished(second.engine, runId)).state, 'completed');
  await assert.rejects(second.engine.resume(runId), /completed/);
});

test('a quota pause survives a restart and resumes at its time', async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const runner = new QuotaRunner(1, 1500);
  // One clock for both owners: no time passes across the restart unless the test says so (real
  // time did, and a loaded machine could outlast the pause before the second owner was asked).
  const clock = new ManualClock(Date.now());
  const first = await openEngine({ stateDir, cwd, runners: [runner], clock });
  const paused = nextEvent(first.engine, 'workflow.paused');
  const { runId } = await first.engine.launch(AGENT);
  const until = (await paused).run.pause?.until;
  await first.engine.close();
  const second = await openEngine({ stateDir, cwd, runners: [runner], clock });
  assert.equal((await second.engine.status(runId)).run.state, 'paused');
  await resumesAt(second.engine, clock, runId, until!);
  assert.equal(runner.starts, 2);
});

test('an owner SIGKILLed while a task is parked: the next owner finds it parked, asking the same, and the answer resumes it', { timeout: 60_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const child = LineProcess.start('asking-owner', 'test/support/asking-owner-child.ts', [stateDir, cwd, 'ask']);
  const runId = (JSON.parse(await child.waitFor(/"launched"/)) as { launched: string }).launched;
  await child.waitFor(/"task.needs-input"/);
  child.child.kill('SIGKILL');
  await child.exited;

  const { engine } = await openEngine({ stateDir, cwd, runners: [new CrashAskingRunner()] });
  await laterRunFinished(engine);
  const task = await engine.task(`${runId}.task`);
  assert.equal(task.state, 'needs-input', 'a crash does not lose the request, nor turn it into an interruption');
  assert.equal(task.request?.kind === 'permission' && task.request.call, 'Bash(make deploy)');
  assert.equal(task.stalls, undefined, 'parked tasks were not running: nothing stalled');
  await engine.answer(task.id, { decision: 'allow' });
  assert.equal((await finished(engine, runId)).state, 'completed');
  assert.equal((await engine.result(task.id))?.output, 'answered: allow');
  assert.equal((await engine.task(task.id)).attempt, 1);
});

test('an owner SIGKILLed while its run is paused: the next owner keeps it paused, and resume runs what it held', { timeout: 60_000 }, async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const child = LineProcess.start('asking-owner', 'test/support/asking-owner-child.ts', [stateDir, cwd, 'pause']);
  const runId = (JSON.parse(await child.waitFor(/"launched"/)) as { launched: string }).launched;
  await child.waitFor(/"signalled"/);
  child.child.kill('SIGKILL');
  await child.exited;

  const { engine } = await openEngine({ stateDir, cwd });
  await laterRunFinished(engine);
  const status = await engine.status(runId);
  assert.equal(status.run.state, 'paused');
  assert.equal(status.run.pause?.reason, 'paused before the crash');
  assert.equal(status.tasks[1]!.state, 'queued', 'held, not started, after the crash');
  await engine.resume(runId);
  assert.equal((await finished(engine, runId)).state, 'completed');
});

test('an agent that stopped because its run was paused, settling after a resume, only goes back to the queue: the run is not paused again', async () => {
  let starts = 0;
  const runner: TaskRunner = {
    kind: 'agent',
    async execute() {
      if (++starts === 1) throw new PauseRun('the run is paused', undefined, 'run-paused');
      return { output: 'went on' };
    },
  };
  const { engine, events } = await openEngine({ runners: [runner] });
  const { runId } = await engine.launch(AGENT);
  assert.equal((await finished(engine, runId)).state, 'completed');
  assert.ok(!events.some((e) => e.type === 'workflow.paused'), 'a run nobody paused stays unpaused');
  assert.equal(starts, 2);
});
