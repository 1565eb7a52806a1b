import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** A tool call that tried to reach outside the task's folder, or was otherwise refused. */
export class ToolRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolRefusal';
  }
}

/**
 * Confines file access to one folder. Every path is resolved against the folder's
 * real path and then through symlinks (`realpath`) of the deepest existing part, so
 * `../x`, `/etc/passwd`, and a symlink inside the folder that points out are all refused.
 */
export class WorkspaceGuard {
  private constructor(readonly root: string) {}

  static async open(folder: string): Promise<WorkspaceGuard> {
    return new WorkspaceGuard(await realpath(folder));
  }

  /** True if the absolute path `p` is the root or below it. */
  contains(p: string): boolean {
    const rel = relative(this.root, p);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
  }

  /** Folder-relative path for messages to the model. */
  display(p: string): string {
    return relative(this.root, p) || '.';
  }

  /**
   * Resolves `input` (relative to the root, or absolute inside it) to a real path inside
   * the root. The target may not exist yet (for writes); then its nearest existing
   * ancestor is checked, and a dangling symlink as the target is refused.
   */
  async resolve(input: string): Promise<string> {
    if (typeof input !== 'string' || input.trim() === '') throw new ToolRefusal('a path is required');
    if (input.includes('\0')) throw new ToolRefusal('path contains a NUL byte');
    const lexical = resolve(this.root, input);
    if (!this.contains(lexical)) throw new ToolRefusal(`refused: "${input}" is outside the task folder`);

    let probe = lexical;
    const missing: string[] = [];
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!this.contains(real)) throw new ToolRefusal(`refused: "${input}" leads outside the task folder through a symlink`);
        return missing.length ? resolve(real, ...missing.reverse()) : real;
      } catch (error) {
        if (error instanceof ToolRefusal) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // realpath fails on a dangling symlink too; never write through one.
        const stat = await lstat(probe).catch(() => undefined);
        if (stat?.isSymbolicLink()) throw new ToolRefusal(`refused: "${input}" is a symlink to a missing target`);
        const parent = dirname(probe);
        if (parent === probe) throw new ToolRefusal(`refused: "${input}" has no existing parent`);
        missing.push(probe.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
        probe = parent;
      }
    }
  }
}
