import type { EngineEvent } from '../../model/events.ts';
import type { SnapshotFile } from '../snapshot-files.ts';
import type { StateDb } from '../state-db.ts';

/**
 * Every read of the durable state, answered by the index (see index-core.ts). Most are the
 * StateDb queries of the same name; `replayEvents` and `followedEvents` rebuild whole engine
 * events next to the rows they read, so a caller pays one round trip, not one per row.
 */
export const QUERY_NAMES = [
  'getRun',
  'runIdsByPrefix',
  'listRuns',
  'runsInState',
  'finishedRunIds',
  'getTasks',
  'getTask',
  'getResult',
  'undeliveredNotifications',
  'getNotification',
  'usage',
  'tokenUsage',
  'gates',
  'checkpoint',
  'eventsAfter',
  'getWebhookDelivery',
  'dueWebhookDeliveries',
  'nextWebhookAttempt',
  'cursor',
  'lastEventSeq',
  'webhookDeliveries',
  'replayEvents',
  'lastSeq',
] as const;

export type QueryName = (typeof QUERY_NAMES)[number];
type DbQueryName = Exclude<QueryName, 'replayEvents' | 'lastSeq'>;

/** The queries as the index answers them in its own thread. */
export type SyncQueries = Pick<StateDb, DbQueryName> & {
  /** Durable events after `seq`, rebuilt from the rows (see event-replay.ts); `next` is where the following page starts. */
  replayEvents(seq: number, limit?: number): { events: EngineEvent[]; next: number };
  /** The last record the index holds. */
  lastSeq(): number;
};

/** The same queries seen from another thread: each answer arrives later. */
export type IndexQueries = { [K in QueryName]: (...args: Parameters<SyncQueries[K]>) => Promise<ReturnType<SyncQueries[K]>> };

/** What the worker found on opening a state folder. */
export interface Opened {
  /** The highest seq in use: new records go above it. */
  lastSeq: number;
  /** The snapshot loaded (with the seq it holds) and the older ones still on disk, newest first. */
  snapshots: SnapshotFile[];
}

/** A snapshot the worker wrote from its own database. */
export interface Written {
  snapshot: SnapshotFile;
  bytes: number;
  ms: number;
}

/** Messages from the owner's (or reader's) thread to the index worker. */
export type ToIndex =
  /**
   * Loads the folder: `repair` (owner) cuts torn tails and sets damage aside; `journalUpTo` (an
   * owner at work already) reads the journal only up to there, repaired already; `follow`
   * (reader) tails the owner's journal after loading.
   */
  | { type: 'open'; id: number; stateDir: string; repair: boolean; journalUpTo?: number; follow?: { pollMs?: number } }
  /** A durable batch: the journal frames exactly as written, its first record numbered `firstSeq`. No reply. */
  | { type: 'apply'; firstSeq: number; frames: Uint8Array }
  /** Answered once the index holds every record up to `atLeast` (read-your-writes). */
  | { type: 'query'; id: number; name: QueryName; args: unknown[]; atLeast: number }
  /** Writes a snapshot of everything applied so far (temp, fsync, rename, checksum). */
  | { type: 'snapshot'; id: number; stateDir: string }
  /** Reader: read what the journal holds now; replies with the last seq held. */
  | { type: 'catch-up'; id: number }
  | { type: 'close'; id: number };

/** Messages from the index worker. */
export type FromIndex =
  | { type: 'reply'; id: number; value: unknown }
  | { type: 'failed'; id: number; message: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** Frame bytes of `apply` messages taken in since the last `taken` (one per turn at most): the owner's backpressure. */
  | { type: 'taken'; bytes: number }
  /** Reader: records the owner appended were applied; the events they stand for, each with its seq. */
  | { type: 'followed'; lastSeq: number; events: EngineEvent[] }
  /** Reader: the records it needed were folded away, so the index loaded the folder afresh. */
  | { type: 'reloaded'; lastSeq: number }
  /** Reader: the owner's lock changed. */
  | { type: 'owner-changed' };
