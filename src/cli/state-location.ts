import fs from 'node:fs';
import path from 'node:path';

/** The project a command works on: the nearest folder up from `cwd` holding `.orchestr8/` or `.git`, else `cwd`. */
export function findProjectRoot(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.orchestr8')) || fs.existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

/** `--state`, else $ORCHESTR8_STATE, else `<project>/.orchestr8/state`. */
export function resolveStateDir(explicit: string | undefined, projectRoot: string): string {
  return path.resolve(explicit ?? process.env.ORCHESTR8_STATE ?? path.join(projectRoot, '.orchestr8', 'state'));
}
