import fs from 'node:fs';
import path from 'node:path';

/** fsyncs a directory so that a file created, renamed or removed in it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncDir without blocking the event loop: for the engine's own thread while tasks run. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file atomically: temp file, fsync, rename over the target, fsync the folder.
 * A failed write (a full disk) removes the temp file, so it does not keep the space it took.
 */
export async function writeFileAtomic(target: string, data: Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    const handle = await fs.promises.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, target);
  } catch (error) {
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
  await fsyncDirAsync(dir);
}
