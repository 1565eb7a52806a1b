import { dependentsOf } from '../scheduler/run-progress.ts';
import { splitTaskId } from '../util/ids.ts';
import { activeRun, type ActiveRun } from './active-run.ts';
import type { EngineCore } from './engine-core.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import * as moves from './moves.ts';
import { Batch } from './moves.ts';
import type { StateQueries } from './state-queries.ts';

/**
 * The commands that run finished work again: a retry of what failed, was cancelled or skipped,
 * and Continue… on an agent task. Both act on an active run, or bring a finished one back.
 */
export async function retryRun(core: EngineCore, queries: StateQueries, id: string): Promise<void> {
  core.assertWritable();
  const runId = await queries.resolveRunId(id);
  const key = splitTaskId(id)?.key;
  const active = await activeOrFinished(core, runId);
  const now = core.deps.clock.now();
  const batch = new Batch();
  if (key && !active.tasks.has(key)) throw new NotFoundError(`no task ${id}`);
  const scope = key ? new Set([key, ...dependentsOf(key, active.tasks.values())]) : new Set(active.tasks.keys());
  const resettable = [...scope].map((k) => active.tasks.get(k)!).filter((t) => t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped');
  if (resettable.length === 0) throw new ConflictError(`nothing to retry in ${key ? `task ${id}` : `run ${runId}`}: no failed, cancelled or skipped tasks`);
  const wasActive = core.active.has(runId);
  if (!wasActive) {
    moves.resumeRun(batch, active);
    core.scheduler.preparedAtOnce(active);
  }
  for (const task of resettable) moves.reset(batch, active, task, now);
  core.scheduler.progress(active, batch, now);
  core.scheduler.pump(batch); // the restart shares the retry's fsync
  await core.commit(batch);
  if (!wasActive) void core.scheduler.prepare(active);
  else core.scheduler.pump();
}

export async function followUpTask(core: EngineCore, queries: StateQueries, id: string, prompt: string): Promise<void> {
  core.assertWritable();
  const text = prompt.trim();
  if (!text) throw new ConflictError('Continue… needs a prompt');
  const runId = await queries.resolveRunId(id);
  const key = splitTaskId(id)?.key;
  if (key === undefined) throw new NotFoundError(`${id} is a run; Continue… takes an agent task's id (<runId>.<key>)`);
  const active = await activeOrFinished(core, runId);
  const task = active.tasks.get(key);
  if (!task) throw new NotFoundError(`no task ${id}`);
  if (task.action.kind !== 'agent') throw new ConflictError(`task ${task.id} is a ${task.action.kind} task; only an agent task continues a conversation`);
  if (task.state !== 'completed' && task.state !== 'failed' && task.state !== 'cancelled') {
    throw new ConflictError(`task ${task.id} is ${task.state}; Continue… takes a finished agent task`);
  }
  const now = core.deps.clock.now();
  const batch = new Batch();
  const wasActive = core.active.has(runId);
  if (!wasActive) moves.resumeRun(batch, active);
  moves.followUp(batch, active, task, now, text);
  core.scheduler.progress(active, batch, now);
  await core.commit(batch);
  if (!wasActive) void core.scheduler.prepare(active);
  else core.scheduler.pump();
}

/** The run as the engine holds it while active, or rebuilt from the store when it has finished. */
async function activeOrFinished(core: EngineCore, runId: string): Promise<ActiveRun> {
  const active = await core.settledActive(runId);
  if (active) return active;
  const run = (await core.deps.reads.getRun(runId))!;
  const tasks = await core.deps.reads.getTasks(runId);
  // Settled again after the reads: a retry resumed it meanwhile, act on that one.
  return (await core.settledActive(runId)) ?? activeRun(run, tasks);
}
