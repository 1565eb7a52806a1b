import type { EngineEvent } from '../model/events.ts';
import type { StateDb } from '../store/state-db.ts';
import type { SequencedRecord } from '../store/store-records.ts';
import { rebuildEvent } from './event-replay.ts';

/**
 * The engine events a batch of followed journal records stands for, read after the batch
 * is applied, each with its journal seq. A journal `event` record names its run or task; the
 * rows themselves come from the database, so a task that changed again later in the same
 * batch shows its newest state (views only redraw it). Rows removed later in the batch yield
 * no event; task.progress and engine.storage are the owner's live news and are never stored.
 */
export function eventsFromRecords(db: StateDb, entries: readonly SequencedRecord[]): EngineEvent[] {
  const events: EngineEvent[] = [];
  for (const { seq, record } of entries) {
    if (record.t !== 'event') continue;
    const event = rebuildEvent(db, record.event);
    if (event) events.push({ ...event, seq });
  }
  return events;
}
