import type { RunRecord, TaskRecord } from '../model/records.ts';
import { upgradeRunRecord } from '../model/run-delivery.ts';
import { RUN_STATES } from '../model/task-state.ts';
import type { IndexQueries } from './index-worker/protocol.ts';
import { patchRow } from './row-patch.ts';
import type { SequencedRecord } from './store-records.ts';
import { runIdOf } from '../util/ids.ts';

/** One run the engine must take up again on opening, with all its tasks (in order). */
export interface ActiveRunRows {
  run: RunRecord;
  tasks: TaskRecord[];
}

/**
 * What recovery needs and nothing more: the runs not finished, and those finished but not
 * finalized (their `runFinished` hooks still owed), oldest first. An owner that knows this
 * and the journal's last seq can take work while the index worker still loads the history.
 */
export interface ActiveState {
  runs: ActiveRunRows[];
}

const FINISHED = new Set<string>(['completed', 'failed', 'cancelled']);

/** A run recovery takes up: not finished, or finished with its hooks still owed. */
export function isActiveRun(run: RunRecord): boolean {
  return !FINISHED.has(run.state) || run.finalized === false;
}

/** The active state as the full index answers it (the slow path: after the whole history is loaded). */
export async function activeStateFromQueries(index: IndexQueries): Promise<ActiveState> {
  const runs: ActiveRunRows[] = [];
  for (const state of RUN_STATES) {
    for (const run of await index.runsInState(state)) {
      if (isActiveRun(run)) runs.push({ run, tasks: await index.getTasks(run.id) });
    }
  }
  return { runs: runs.sort(byCreation) };
}

/**
 * The active state at a snapshot, carried forward over the journal records after it. Only
 * the rows of runs it knows can be carried: a record that touches a run it cannot place (a
 * patch of a row it lacks, a whole row of a run that may be in the snapshot's history, as
 * when a finished run is retried) leaves it `unsure`, and the owner waits for the full load.
 */
export class ActiveFold {
  private readonly runs = new Map<string, { run: RunRecord; tasks: Map<string, TaskRecord> }>();
  /** Why the fold cannot be trusted, once it cannot. */
  unsure: string | undefined;

  /**
   * @param active the snapshot's active runs (its sidecar)
   * @param newestCreatedAt the newest `createdAt` of any run in the snapshot: a whole run row
   *   created after it cannot be in the snapshot, so it is a launch and its tasks follow whole
   */
  constructor(
    active: readonly ActiveRunRows[],
    private readonly newestCreatedAt: number,
  ) {
    for (const { run, tasks } of active) this.runs.set(run.id, { run, tasks: new Map(tasks.map((t) => [t.id, t])) });
  }

  apply(entries: readonly SequencedRecord[]): void {
    for (const { record } of entries) {
      if (this.unsure) return;
      switch (record.t) {
        case 'run': {
          const known = this.runs.get(record.run.id);
          if (known) known.run = record.run;
          else if (record.run.createdAt > this.newestCreatedAt) this.runs.set(record.run.id, { run: record.run, tasks: new Map() });
          else this.unsure = `run ${record.run.id} is recorded whole but may be in the snapshot's history`;
          break;
        }
        case 'run-patch': {
          const known = this.runs.get(record.id);
          if (known) known.run = patchRow(known.run, record);
          else this.unsure = `run ${record.id} is patched but not known`;
          break;
        }
        case 'task': {
          const known = this.runs.get(record.task.runId);
          if (known) known.tasks.set(record.task.id, record.task);
          else this.unsure = `task ${record.task.id} is recorded but its run is not known`;
          break;
        }
        case 'task-patch': {
          const task = this.runs.get(runIdOf(record.id))?.tasks.get(record.id);
          if (task) this.runs.get(task.runId)!.tasks.set(task.id, patchRow(task, record));
          else this.unsure = `task ${record.id} is patched but not known`;
          break;
        }
        case 'delete-runs':
          for (const id of record.runIds) this.runs.delete(id);
          break;
        default:
          break; // results, events, outbox rows…: not part of what recovery reads
      }
    }
  }

  /** The active state now, or undefined when unsure. */
  result(): ActiveState | undefined {
    if (this.unsure) return undefined;
    const runs: ActiveRunRows[] = [];
    for (const { run, tasks } of this.runs.values()) {
      if (isActiveRun(run)) runs.push({ run: upgradeRunRecord(run), tasks: [...tasks.values()].sort((a, b) => a.order - b.order) });
    }
    return { runs: runs.sort(byCreation) };
  }
}

const byCreation = (a: ActiveRunRows, b: ActiveRunRows) => a.run.createdAt - b.run.createdAt;
