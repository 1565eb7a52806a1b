import { errorMessage } from '../util/logger.ts';

/**
 * Error codes that say the disk cannot take a write now but may later: out of space,
 * over quota, or a write or fsync the device failed. The owner waits these out
 * instead of failing; anything else still means the state cannot be trusted.
 */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO']);

export function isStorageFull(error: unknown): boolean {
  return STORAGE_FULL_CODES.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Whether the store can save changes. `paused`: the journal could not write (a full
 * disk); changes wait in memory, unacknowledged, and are written when space returns.
 */
export type StorageState = { state: 'ok' } | { state: 'paused'; reason: string; since: number };

/** New work refused while storage is paused: it could not be saved, so it is not accepted. */
export class StorageFullError extends Error {
  constructor(reason: string) {
    super(`storage full: ${reason}; work is paused until space is freed`);
    this.name = 'StorageFullError';
  }
}

/** `ENOSPC: no space left on device, write` names the code already; a bare message gets it added. */
export function storageErrorText(error: unknown): string {
  const message = errorMessage(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
