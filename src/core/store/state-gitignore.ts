import fs from 'node:fs';
import path from 'node:path';

const GITIGNORE = "# Orchestr8's task store (runs, logs, run worktrees): local to this machine, never committed.\n*\n";

/**
 * Keeps a store out of git wherever it lives (the default is inside the project): every owner,
 * the CLI's as much as a window's, writes this once. An existing file is left as the user made it.
 */
export async function writeStateGitIgnore(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.promises.writeFile(path.join(dir, '.gitignore'), GITIGNORE, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
