import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the extension's `orchestr8` command is and what runs it. */
export interface ShimTarget {
  /** The CLI bundle shipped in the extension (`dist/cli.cjs`). */
  readonly cliPath: string;
  /** A runtime for machines without `node` on the PATH: VS Code's own (Electron run as Node). */
  readonly fallbackNode: string;
}

/** First line of every shim we write: how `installCommandLine` tells ours from someone else's `orchestr8`. */
const MARK = 'Written by the Orchestr8 VS Code extension';

/**
 * Writes the `orchestr8` command into `binDir` (a POSIX shell script, and a `.cmd` on Windows)
 * that runs the extension's CLI with `node`, or with VS Code's runtime where there is no
 * `node`. Rewritten at each activation: the extension's folder changes with every update, the
 * shim's path does not. Resolves with the shim's path.
 */
export async function writeShim(binDir: string, target: ShimTarget): Promise<string> {
  await fs.promises.mkdir(binDir, { recursive: true });
  const shim = path.join(binDir, 'orchestr8');
  const cli = shellQuote(target.cliPath);
  const script = [
    '#!/bin/sh',
    `# ${MARK}: runs its bundled command line.`,
    `if command -v node >/dev/null 2>&1; then exec node ${cli} "$@"; fi`,
    `ELECTRON_RUN_AS_NODE=1 exec ${shellQuote(target.fallbackNode)} ${cli} "$@"`,
    '',
  ].join('\n');
  await writeIfChanged(shim, script, 0o755);
  if (process.platform === 'win32') {
    await writeIfChanged(
      `${shim}.cmd`,
      `@rem ${MARK}\r\n@where node >nul 2>nul && (node "${target.cliPath}" %*) || (set ELECTRON_RUN_AS_NODE=1 && "${target.fallbackNode}" ` +
        `"${target.cliPath}" %*)\r\n`,
      0o755,
    );
  }
  return shim;
}

/** What "Install Command Line" did. */
export interface InstallOutcome {
  /** The `orchestr8` now on the user's PATH (a link to the shim). */
  readonly installed: string;
  /** Whether its folder is on the PATH given; if not, the user has to add it. */
  readonly onPath: boolean;
}

/**
 * Links `<dir>/orchestr8` (default `~/.local/bin`) to the shim, like VS Code's "Install 'code'
 * command in PATH". Replaces an earlier link or shim of ours; never someone else's `orchestr8`
 * (an `npm link` of this repository, say): that is an error naming it.
 */
export async function installCommandLine(
  shim: string,
  dir = path.join(os.homedir(), '.local', 'bin'),
  pathVar = process.env.PATH ?? '',
): Promise<InstallOutcome> {
  await fs.promises.mkdir(dir, { recursive: true });
  const installed = path.join(dir, 'orchestr8');
  const existing = await fs.promises.lstat(installed).catch(() => undefined);
  if (existing) {
    if (!(await isOurs(installed, existing))) throw new Error(`${installed} exists and is not the Orchestr8 extension's command; remove it first`);
    await fs.promises.rm(installed);
  }
  await fs.promises.symlink(shim, installed);
  const onPath = pathVar.split(path.delimiter).some((p) => p && path.resolve(p) === path.resolve(dir));
  return { installed, onPath };
}

async function isOurs(file: string, stat: fs.Stats): Promise<boolean> {
  if (stat.isSymbolicLink()) {
    // A link to a shim of ours (even one whose target is gone) is ours to replace.
    const target = path.resolve(path.dirname(file), await fs.promises.readlink(file));
    return (
      path.basename(target) === 'orchestr8' &&
      (await fs.promises.readFile(target, 'utf8').then(
        (t) => t.includes(MARK),
        () => true,
      ))
    );
  }
  return (await fs.promises.readFile(file, 'utf8').catch(() => '')).includes(MARK);
}

async function writeIfChanged(file: string, text: string, mode: number): Promise<void> {
  if ((await fs.promises.readFile(file, 'utf8').catch(() => undefined)) === text) return;
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.promises.writeFile(tmp, text, { mode });
  await fs.promises.rename(tmp, file);
}

/** Single quotes for sh: a path with spaces or quotes stays one word. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
