import path from 'node:path';
import type { Logger } from '../../util/logger.ts';
import { errorMessage } from '../../util/logger.ts';
import { replayJournal } from '../journal-replay.ts';
import { listSnapshots, readSnapshot, setSnapshotAside, SnapshotDamagedError } from '../snapshot-files.ts';
import type { SnapshotFile } from '../snapshot-files.ts';
import { StateDb } from '../state-db.ts';

/** The state as of now, as loadState found it. */
export interface LoadedState {
  db: StateDb;
  /** The highest seq in use: new records go above it. */
  lastSeq: number;
  /** The snapshot loaded (with the seq it holds) and the older ones still on disk, newest first. */
  snapshots: SnapshotFile[];
}

/**
 * The newest snapshot that verifies (falling back one generation at a time) plus the journal after it.
 * `journalUpTo`: an owner that already took work read (and repaired) the journal up to this seq
 * before starting the load (see quick-open.ts); only that part is read, and it is not repaired.
 */
export async function loadState(stateDir: string, repair: boolean, logger: Logger, journalUpTo?: number): Promise<LoadedState> {
  const candidates = listSnapshots(stateDir);
  let db: StateDb | undefined;
  let loaded = candidates.length;
  for (let i = 0; i < candidates.length && !db; i++) {
    db = await openSnapshot(candidates[i]!, candidates[i + 1], repair, logger);
    if (db) loaded = i;
  }
  db ??= await StateDb.open();
  try {
    const snapshots = candidates.slice(loaded).map((s, i) => (i === 0 ? { ...s, lastSeq: db.lastSeq } : s));
    const { entries, lastSeq } = replayJournal(path.join(stateDir, 'journal'), {
      afterSeq: db.lastSeq,
      repair: repair && journalUpTo === undefined,
      logger,
      ...(journalUpTo !== undefined ? { upTo: journalUpTo } : {}),
    });
    if (entries.length) db.apply(entries);
    return { db, lastSeq: Math.max(lastSeq, db.lastSeq), snapshots };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A reader's load: the owner may fold segments into a new snapshot while we read; a gap means "read again". */
export async function loadForReading(stateDir: string, logger: Logger): Promise<LoadedState> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await loadState(stateDir, false, logger);
    } catch (error) {
      if (attempt >= 4 || !/missing/.test(errorMessage(error))) throw error;
    }
  }
}

/** Opens a snapshot; one that fails to verify is reported (and, by the owner, taken out of use for good). */
async function openSnapshot(snapshot: SnapshotFile, fallback: SnapshotFile | undefined, repair: boolean, logger: Logger): Promise<StateDb | undefined> {
  const name = path.basename(snapshot.path);
  try {
    return await StateDb.open(readSnapshot(snapshot));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed by the owner since listed: an old generation
    if (code !== undefined) throw error; // the disk failed, not the snapshot
    const why = error instanceof SnapshotDamagedError ? error.message : `snapshot ${name} cannot be opened (${errorMessage(error)})`;
    const aside = repair ? `; it is kept as ${setSnapshotAside(snapshot)} and never used again` : '';
    logger.error(`${why}: falling back to ${fallback ? path.basename(fallback.path) : 'an empty state'} and the journal${aside}`);
    return undefined;
  }
}
