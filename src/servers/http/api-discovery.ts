import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../../core/store/state-lock.ts';

/** What a client needs to reach the local API of the process that owns a state folder. */
export interface ApiDiscovery {
  version: 1;
  url: string;
  port: number;
  token: string;
  pid: number;
  startedAt: number;
}

export const DISCOVERY_FILE = 'api.json';

export function discoveryPath(stateDir: string): string {
  return join(stateDir, DISCOVERY_FILE);
}

export function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the discovery file readable by its owner only (it holds the token), atomically. */
export function writeDiscovery(stateDir: string, info: ApiDiscovery): void {
  const file = discoveryPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600); // the umask may have widened nothing, but an existing tmp could have other bits
  renameSync(tmp, file);
}

/** The discovery file of a live owner, or undefined (none, unreadable, or its process is gone). */
export function readDiscovery(stateDir: string): ApiDiscovery | undefined {
  const file = discoveryPath(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ApiDiscovery;
    if (info.version !== 1 || typeof info.token !== 'string' || typeof info.port !== 'number') return undefined;
    return isProcessAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the discovery file if it is still ours (a newer owner may have replaced it). */
export function removeDiscovery(stateDir: string, token: string): void {
  const file = discoveryPath(stateDir);
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ApiDiscovery;
    if (info.token === token) unlinkSync(file);
  } catch {
    // already gone
  }
}
