import type { EngineEvent } from '../model/events.ts';
import type { StateDb } from '../store/state-db.ts';
import type { SequencedRecord, StoredEvent } from '../store/store-records.ts';

/**
 * The engine events a batch of followed journal records stands for, read after the batch
 * is applied. A journal `event` record names its run or task; the rows themselves come from
 * the database, so a task that changed again later in the same batch shows its newest state
 * (views only redraw it). Rows removed later in the batch yield no event.
 */
export function eventsFromRecords(db: StateDb, entries: readonly SequencedRecord[]): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const { record } of entries) {
    if (record.t !== 'event') continue;
    const event = engineEvent(db, record.event);
    if (event) events.push(event);
  }
  return events;
}

function engineEvent(db: StateDb, stored: StoredEvent): EngineEvent | undefined {
  const type = stored.type;
  switch (type) {
    case 'workflow.removed':
      return { type, runIds: stored.detail ? stored.detail.split(',') : [] };
    case 'workflow.launched': {
      const run = stored.runId ? db.getRun(stored.runId) : undefined;
      return run && { type, run, tasks: db.getTasks(run.id) };
    }
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled':
    case 'workflow.resumed':
    case 'run.delivered': {
      const run = stored.runId ? db.getRun(stored.runId) : undefined;
      return run && { type, run };
    }
    case 'task.queued':
    case 'task.started':
    case 'task.waiting':
    case 'task.cancelled':
    case 'task.skipped':
    case 'task.reset':
    case 'task.completed':
    case 'task.failed':
    case 'task.retrying':
    case 'task.interrupted': {
      const task = stored.taskId ? db.getTask(stored.taskId) : undefined;
      if (!task) return undefined;
      if (type === 'task.completed') {
        const result = db.getResult(task.id);
        return result && { type, task, result };
      }
      if (type === 'task.failed') return { type, task, error: stored.detail ?? task.error ?? '' };
      if (type === 'task.retrying') return { type, task, error: stored.detail ?? '', delayMs: Math.max(0, (task.notBefore ?? stored.at) - stored.at) };
      if (type === 'task.interrupted') return { type, task, reason: stored.detail ?? '' };
      return { type, task };
    }
    default:
      // task.progress and engine.storage are the owner's live news, not state to follow.
      return undefined;
  }
}
