import type { RunRecord, TaskRecord } from '../model/records.ts';

/** A run the engine is progressing: its records as the engine last made them, and its dispatch state. */
export interface ActiveRun {
  run: RunRecord;
  tasks: Map<string, TaskRecord>;
  /** Tasks of this run holding an executor slot. */
  running: number;
  /** prepareRun hooks done: tasks may start. */
  prepared: boolean;
  /** Ready tasks held back by the run's concurrency limit or preparation. */
  held: QueueEntry[];
  /**
   * Set once the run has finished in memory: the commit of the batch saying so. The run stays
   * in the active set until then, so nothing the engine says gets ahead of the disk.
   */
  finished?: Promise<void>;
  /**
   * Keys of tasks known to have no checkpoint: those of a run launched by this engine, until one
   * is saved. Their starts skip the store's lookup, which right after an open waits for the index
   * worker to load. Not set for runs rebuilt from the store (a recovery, a retry of a finished run).
   */
  uncheckpointed?: Set<string>;
}

/** A ready task in the dispatch queue: highest priority first, then first come. */
export interface QueueEntry {
  runId: string;
  key: string;
  priority: number;
  seq: number;
}

export function activeRun(run: RunRecord, tasks: TaskRecord[]): ActiveRun {
  return { run, tasks: new Map(tasks.map((t) => [t.key, t])), running: 0, prepared: false, held: [] };
}
