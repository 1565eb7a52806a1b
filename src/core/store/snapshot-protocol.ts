import type { JournalSegment } from './journal.ts';
import type { SnapshotFile } from './snapshot-files.ts';

/** Messages between the store and its snapshot worker thread. */
export type SnapshotRequest = {
  type: 'snapshot';
  stateDir: string;
  /** The newest snapshot the store trusts: the worker starts from it when it has no copy of its own. */
  base: SnapshotFile | undefined;
  /** Closed journal segments, oldest first; records the worker's copy already holds are skipped. */
  segments: JournalSegment[];
};
export type SnapshotReply =
  | { type: 'done'; snapshot: SnapshotFile; bytes: number; ms: number }
  | { type: 'error'; message: string };
