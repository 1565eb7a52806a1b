/**
 * Fault injection for the crash tests: `ORCHESTR8_CRASH_AT=name` (or `name:N`, the Nth
 * time that point is reached) makes the process SIGKILL itself at that point, so a test
 * can kill the owner at the exact moment a durability promise could break. Unset (as in
 * every normal run), a crash point is one comparison.
 */
const armed = parse(process.env.ORCHESTR8_CRASH_AT);
let reached = 0;

/** Named moments the crash tests aim at; the name says where the process dies. */
export type CrashPointName =
  /** The new snapshot is in place and committed (checksum written); no older snapshot or folded segment has been removed. */
  | 'snapshot.renamed'
  /** A new snapshot and its active-set sidecar are in place; its checksum (the commit point) is not written. */
  | 'snapshot.sidecar-written'
  /** The first segment folded into the previous snapshot has been removed, any others are still there. */
  | 'segments.dropping'
  /** The journal started a new segment; the snapshot that will fold the old ones has not been written. */
  | 'journal.rotated'
  /** The owner is applying deferred (already durable) records to its tables. */
  | 'deferred.apply'
  /** A run has finished in the engine's memory; the batch saying so is not yet durable. */
  | 'run.finishing'
  /** A webhook event (durable, announced) has endpoints; its deliveries are not in the outbox yet. */
  | 'webhook.queueing'
  /** The owner launched a run from a launch-inbox request (durable); the request file is not removed yet. */
  | 'inbox.launched'
  /** A task's work is committed on its own branch; nothing of it is merged into the run's branch yet. */
  | 'task.committed'
  /** The commit that merges a task into its run's branch exists; the run's branch has not moved to it. */
  | 'merge.prepared'
  /** The run's branch holds a task's merged work; the run's worktree files and the task's completion are not updated yet. */
  | 'merge.ref-updated';

export function crashPoint(name: CrashPointName): void {
  if (armed === undefined || armed.name !== name) return;
  if (++reached < armed.nth) return;
  process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { name: string; nth: number } | undefined {
  if (!value) return undefined;
  const [name, nth] = value.split(':');
  return { name: name!, nth: nth ? Number(nth) : 1 };
}
