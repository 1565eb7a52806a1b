import type { EngineEvent } from '../model/events.ts';
import type { StateDb } from '../store/state-db.ts';
import type { StoredEvent } from '../store/store-records.ts';

/**
 * The events after `seq` from the durable event table, oldest first, for a listener that
 * missed them (an SSE client reconnecting with Last-Event-ID, the webhook outbox after a
 * restart). The table keeps events compact (type and ids), so each is rebuilt in full from
 * the rows as they are now and flagged `replayed`: its record may be in a later state than
 * when the event fired (a replayed `task.queued` of a task that has completed since). Events
 * of runs removed since went with them; their `workflow.removed` is replayed instead.
 * `next` is the cursor to ask from for the following page (the last seq read, even if skipped).
 */
export function replayEvents(db: StateDb, seq: number, limit = 500): { events: EngineEvent[]; next: number } {
  const stored = db.eventsAfter(seq, limit);
  const events: EngineEvent[] = [];
  for (const e of stored) {
    const event = rebuildEvent(db, e);
    if (event) events.push({ ...event, seq: e.seq, replayed: true });
  }
  return { events, next: stored.length ? stored[stored.length - 1]!.seq : seq };
}

/**
 * The full engine event a stored (compact) one stands for, built from the rows as they are
 * now; undefined when its rows are gone or its kind is unknown. Replays and journal followers
 * both use it, so a listener hears the same event whichever way it learns of it.
 */
export function rebuildEvent(db: StateDb, e: StoredEvent): EngineEvent | undefined {
  switch (e.type) {
    case 'workflow.removed':
      return { type: e.type, runIds: e.detail ? e.detail.split(',') : [] };
    case 'workflow.launched': {
      const run = e.runId ? db.getRun(e.runId) : undefined;
      return run && { type: e.type, run, tasks: db.getTasks(run.id) };
    }
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled':
    case 'workflow.resumed':
    case 'workflow.paused':
    case 'workflow.unpaused':
    case 'run.updated':
    case 'run.delivered': {
      const run = e.runId ? db.getRun(e.runId) : undefined;
      return run && { type: e.type, run };
    }
  }
  const task = e.taskId ? db.getTask(e.taskId) : undefined;
  if (!task) return undefined;
  switch (e.type) {
    case 'task.queued':
    case 'task.started':
    case 'task.waiting':
    case 'task.cancelled':
    case 'task.skipped':
    case 'task.reset':
    case 'task.needs-input':
    case 'task.answered':
      return { type: e.type, task };
    case 'task.interrupted':
      return { type: e.type, task, reason: e.detail ?? '' };
    case 'task.retrying':
      return { type: e.type, task, error: e.detail ?? '', delayMs: Math.max(0, (task.notBefore ?? e.at) - e.at) };
    case 'task.failed':
      return { type: e.type, task, error: e.detail ?? task.error ?? 'failed' };
    case 'task.completed': {
      const result = db.getResult(task.id);
      return result && { type: e.type, task, result };
    }
    default:
      return undefined; // a kind this version does not know: a newer owner wrote it
  }
}
