import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Packr } from 'msgpackr';
import type { ActiveRunRows } from './active-state.ts';

/**
 * `snapshot-<lastSeq>.sqlite.active`: the snapshot's active runs (see ActiveState), so that an
 * owner can take work before the snapshot itself is loaded. Written after the snapshot has been
 * verified and before its checksum (the generation's commit point), removed with it. Its bytes
 * are a sha256 (64 hex characters) of the msgpack body that follows; a sidecar that is missing
 * or does not verify only costs the quick open: the owner then waits for the full load.
 */
export interface ActiveSidecar {
  /** The snapshot's last seq: the journal is carried forward from here. */
  lastSeq: number;
  /** The newest `createdAt` of any run in the snapshot (-Infinity: none). */
  newestCreatedAt: number;
  runs: ActiveRunRows[];
}

const packr = new Packr({ useRecords: false });
const HASH_CHARS = 64;

export function activeSidecarPath(snapshotPath: string): string {
  return `${snapshotPath}.active`;
}

export function encodeActiveSidecar(sidecar: ActiveSidecar): Uint8Array {
  const body = packr.pack({ ...sidecar, newestCreatedAt: Number.isFinite(sidecar.newestCreatedAt) ? sidecar.newestCreatedAt : null });
  return Buffer.concat([Buffer.from(createHash('sha256').update(body).digest('hex'), 'latin1'), body]);
}

/** The sidecar of the snapshot at `snapshotPath` holding `lastSeq`; throws (saying why) if it is missing or damaged. */
export function readActiveSidecar(snapshotPath: string, lastSeq: number): ActiveSidecar {
  const bytes = fs.readFileSync(activeSidecarPath(snapshotPath));
  const body = bytes.subarray(HASH_CHARS);
  if (bytes.length < HASH_CHARS || bytes.subarray(0, HASH_CHARS).toString('latin1') !== createHash('sha256').update(body).digest('hex')) {
    throw new Error('its active-set sidecar does not match its sha256 checksum');
  }
  const decoded = packr.unpack(body) as Omit<ActiveSidecar, 'newestCreatedAt'> & { newestCreatedAt: number | null };
  if (decoded.lastSeq !== lastSeq) throw new Error(`its active-set sidecar is of seq ${decoded.lastSeq}`);
  return { ...decoded, newestCreatedAt: decoded.newestCreatedAt ?? -Infinity };
}
