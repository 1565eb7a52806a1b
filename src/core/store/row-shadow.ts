import type { RunRecord, TaskRecord } from '../model/records.ts';
import { diffRow } from './row-patch.ts';
import type { StoreRecord } from './store-records.ts';

/** Rows of this many runs at most are kept; past it the oldest run's go (its next records are whole rows again). */
const MAX_RUNS = 10_000;

/**
 * The run and task rows as last recorded in the journal, so that the next record of a row can
 * carry only what changed. Whatever it does not hold is recorded whole, so forgetting is always
 * safe; what it holds must be exactly what the journal holds, so `compact` is called in journal
 * order, right before the records are appended.
 */
export class RowShadow {
  private readonly runs = new Map<string, { run?: RunRecord; tasks: Map<string, TaskRecord> }>();

  /**
   * The record to journal for `record`: for a run or task row recorded before, a patch of its
   * changes (with nothing in it when nothing changed: a record keeps its place, and so its seq);
   * any other record as it is.
   */
  compact(record: StoreRecord): StoreRecord {
    switch (record.t) {
      case 'run': {
        const rows = this.rowsOf(record.run.id);
        const before = rows.run;
        rows.run = record.run;
        return before ? { t: 'run-patch', ...(diffRow(before, record.run) ?? { id: record.run.id, set: {} }) } : record;
      }
      case 'task': {
        const tasks = this.rowsOf(record.task.runId).tasks;
        const before = tasks.get(record.task.id);
        tasks.set(record.task.id, record.task);
        return before ? { t: 'task-patch', ...(diffRow(before, record.task) ?? { id: record.task.id, set: {} }) } : record;
      }
      case 'delete-runs':
        for (const id of record.runIds) this.forgetRun(id);
        return record;
      default:
        return record;
    }
  }

  /** A run no longer in memory: its rows' next records (if any) are whole. */
  forgetRun(runId: string): void {
    this.runs.delete(runId);
  }

  private rowsOf(runId: string): { run?: RunRecord; tasks: Map<string, TaskRecord> } {
    let rows = this.runs.get(runId);
    if (!rows) {
      rows = { tasks: new Map() };
      this.runs.set(runId, rows);
      if (this.runs.size > MAX_RUNS) this.runs.delete(this.runs.keys().next().value!);
    }
    return rows;
  }
}
