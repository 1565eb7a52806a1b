/** Messages between the store and its snapshot worker thread. */
export type SnapshotRequest = { type: 'snapshot'; snapshotPath: string; segments: string[] };
export type SnapshotReply = { type: 'done'; lastSeq: number; bytes: number; ms: number } | { type: 'error'; message: string };

export const SNAPSHOT_FILE = 'snapshot.sqlite';
