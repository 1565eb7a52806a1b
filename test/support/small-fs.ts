import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { after } from 'node:test';

/**
 * Mounts a tmpfs of `size` (e.g. "4m") on a fresh folder, unmounted when the test file
 * ends. Mounting needs root (CAP_SYS_ADMIN); where it is refused the test is skipped,
 * loudly, and this returns undefined. CI runs as root, so there it always runs.
 */
export function mountSmallFs(t: TestContext, size: string): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    const reason = `cannot mount a ${size} tmpfs here (needs root / CAP_SYS_ADMIN): ${
      String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .split('\n')[0]
    }`;
    console.warn(`\n*** SKIPPED "${t.name}": ${reason}\n`);
    t.skip(reason);
    return undefined;
  }
  after(() => {
    // Lazy: a task process still holding a file there must not make the unmount fail.
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes `file` until the filesystem it is on has no room left (the last write is a short one). */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x2e);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes a new file could still take on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}
