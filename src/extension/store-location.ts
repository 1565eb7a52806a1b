import fs from 'node:fs';
import path from 'node:path';

/**
 * The store a window opens for a workspace folder: `<folder>/.orchestr8/state`, the CLI's default for a
 * project (`orchestr8 … ` run in the folder, `orchestr8 mcp` started there by another tool). Keyed to the
 * folder itself, so every window on it (a second tab, a window whose old extension host lives on) and
 * every process finds the same store; the lock lets one own it and the others follow it read-only.
 *
 * The folder's real path: a window opened through a symlink names the same store in its terminals' and
 * log's paths as one opened directly.
 */
export function workspaceStateDir(folder: string): string {
  let real: string;
  try {
    real = fs.realpathSync.native(folder);
  } catch {
    real = path.resolve(folder);
  }
  return path.join(real, '.orchestr8', 'state');
}
