import path from 'node:path';
import type { Logger } from '../util/logger.ts';
import { errorMessage } from '../util/logger.ts';
import { readActiveSidecar } from './active-sidecar.ts';
import type { ActiveSidecar } from './active-sidecar.ts';
import { ActiveFold } from './active-state.ts';
import type { ActiveState } from './active-state.ts';
import { replayJournal } from './journal-replay.ts';
import { listSnapshots } from './snapshot-files.ts';

/** What an owner needs to take work before its history is loaded. */
export interface QuickOpened {
  /** The highest seq in use: new records go above it. */
  lastSeq: number;
  /** The runs recovery takes up. */
  active: ActiveState;
  /** The seq of the snapshot whose sidecar was read (0: none). */
  snapshotSeq: number;
}

/**
 * The first phase of an owner's open, in its own thread and without sql.js: the newest
 * snapshot's active-set sidecar, carried forward over the journal after it (read, and repaired:
 * a torn tail cut, damage set aside, as the full load would). Undefined when that cannot be
 * trusted (no usable sidecar, or a record the fold cannot place): the owner then waits for the
 * index worker's full load, as before.
 */
export function quickOpen(stateDir: string, logger: Logger): QuickOpened | undefined {
  const newest = listSnapshots(stateDir)[0];
  let sidecar: ActiveSidecar = { lastSeq: 0, newestCreatedAt: -Infinity, runs: [] };
  if (newest?.legacy) return undefined;
  if (newest) {
    try {
      sidecar = readActiveSidecar(newest.path, newest.lastSeq);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it has no active-set sidecar' : errorMessage(error);
      logger.info(`snapshot ${path.basename(newest.path)}: ${why}; waiting for the full load before taking work`);
      return undefined;
    }
  }
  const { entries, lastSeq } = replayJournal(path.join(stateDir, 'journal'), { afterSeq: sidecar.lastSeq, repair: true, logger });
  const fold = new ActiveFold(sidecar.runs, sidecar.newestCreatedAt);
  fold.apply(entries);
  const active = fold.result();
  if (!active) {
    logger.info(`open: ${fold.unsure}; waiting for the full load before taking work`);
    return undefined;
  }
  return { lastSeq: Math.max(lastSeq, sidecar.lastSeq), active, snapshotSeq: sidecar.lastSeq };
}
