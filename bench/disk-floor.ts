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

/**
 * One sample at a time of the two floors under a launch, for interleaving with launches sample by
 * sample (so a burst of other I/O on the VM lands on all three alike, not on one block of them):
 * `sync()` is a write + `fdatasync` on this thread, as `rawFdatasyncMs`; `pool()` is the journal's
 * own path on Linux, one write to an `O_DSYNC` file through libuv's thread pool, with the two
 * thread hand-overs (to a pool thread and back to this one) that the engine needs because it may
 * not block its thread on the disk. Both in ms. `close()` removes the files.
 */
export function diskFloorSampler(bytes = LAUNCH_COMMIT_BYTES): { sync(): number; pool(): Promise<number>; close(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-disk-floor-'));
  const syncFd = fs.openSync(path.join(dir, 'sync'), 'a');
  const { O_WRONLY, O_CREAT, O_APPEND, O_DSYNC } = fs.constants;
  // O_DSYNC is Linux's here as in the journal; elsewhere the pool floor is write + fdatasync, two pool trips.
  const dsync = process.platform === 'linux';
  const poolFd = fs.openSync(path.join(dir, 'pool'), dsync ? O_WRONLY | O_CREAT | O_APPEND | O_DSYNC : 'a');
  const data = Buffer.alloc(bytes, 7);
  const write = () => new Promise<void>((resolve, reject) => fs.write(poolFd, data, 0, data.length, null, (error) => (error ? reject(error) : resolve())));
  const fdatasync = () => new Promise<void>((resolve, reject) => fs.fdatasync(poolFd, (error) => (error ? reject(error) : resolve())));
  return {
    sync() {
      const t = performance.now();
      fs.writeSync(syncFd, data);
      fs.fdatasyncSync(syncFd);
      return performance.now() - t;
    },
    async pool() {
      const t = performance.now();
      await write();
      if (!dsync) await fdatasync();
      return performance.now() - t;
    },
    close() {
      fs.closeSync(syncFd);
      fs.closeSync(poolFd);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
