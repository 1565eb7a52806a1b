import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Who owns a state folder: written to `<state>/owner.lock`. */
export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: number;
  /** What the owner is (e.g. "orchestr8 run", "vscode"), to name it in errors. */
  command: string;
}

/** The state folder is owned by another live process. */
export class StateOwnedError extends Error {
  constructor(
    readonly stateDir: string,
    readonly owner: LockInfo,
  ) {
    super(
      `state in ${stateDir} is owned by pid ${owner.pid} (${owner.command}, ` +
        `started ${new Date(owner.startedAt).toISOString()}${owner.hostname === os.hostname() ? '' : ` on ${owner.hostname}`})`,
    );
    this.name = 'StateOwnedError';
  }
}

export function lockPath(stateDir: string): string {
  return path.join(stateDir, 'owner.lock');
}

export function readLock(stateDir: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath(stateDir), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock names a live process; a lock from another host is assumed live (its pid can't be checked from here). */
export function isLockLive(info: LockInfo): boolean {
  return info.hostname !== os.hostname() || isProcessAlive(info.pid);
}

/**
 * Takes exclusive ownership of a state folder. A lock left by a dead process is
 * taken over (the caller then recovers that owner's running tasks).
 */
export function acquireLock(stateDir: string, command: string): { info: LockInfo; previous?: LockInfo; release(): void } {
  // Task output and results live here: only the user may list or read them (folders made before this was 0755).
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(stateDir, 0o700);
  const file = lockPath(stateDir);
  const info: LockInfo = { pid: process.pid, hostname: os.hostname(), startedAt: Date.now(), command };
  let previous: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeFileSync(fd, JSON.stringify(info));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      // Two processes taking over the same stale lock: the later unlink+create wins, the earlier sees it lost here.
      const now = readLock(stateDir);
      if (now?.pid !== info.pid || now.startedAt !== info.startedAt) continue;
      return {
        info,
        ...(previous ? { previous } : {}),
        release: () => {
          const current = readLock(stateDir);
          if (current?.pid === info.pid && current.startedAt === info.startedAt) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readLock(stateDir);
      if (owner && isLockLive(owner)) throw new StateOwnedError(stateDir, owner);
      previous = owner;
      fs.rmSync(file, { force: true });
    }
  }
  const owner = readLock(stateDir);
  throw owner ? new StateOwnedError(stateDir, owner) : new Error(`could not lock ${stateDir}`);
}

/** The lock of another live process that owns `stateDir`, if there is one (then opening as owner would be refused). */
export function liveOwner(stateDir: string): LockInfo | undefined {
  const lock = readLock(stateDir);
  return lock && lock.pid !== process.pid && isLockLive(lock) ? lock : undefined;
}
