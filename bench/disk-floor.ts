import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** About one launch's group commit at 1 in flight (run, task, start and their events), in bytes. */
export const LAUNCH_COMMIT_BYTES = 400;

/**
 * The disk's own floor for a durable launch: `n` writes of `bytes`, each followed by
 * `fdatasync`, synchronously on this thread (no event loop, no thread pool), in ms per write.
 */
export function rawFdatasyncMs(n: number, bytes = LAUNCH_COMMIT_BYTES): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-disk-floor-'));
  const fd = fs.openSync(path.join(dir, 'j'), 'a');
  const data = Buffer.alloc(bytes, 7);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fs.writeSync(fd, data);
    fs.fdatasyncSync(fd);
    ms.push(performance.now() - t);
  }
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}
