import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDirAsync } from '../core/store/fs-durable.ts';
import { acquireLock, isLockLive, isProcessAlive, readLock, StateOwnedError } from '../core/store/state-lock.ts';
import { writeStateGitIgnore } from '../core/store/state-gitignore.ts';
import { journalDir } from '../core/store/state-store.ts';
import { errorMessage, type Logger } from '../core/util/logger.ts';

/**
 * What became of the store a window kept in its own workspace storage before stores were keyed to the
 * folder (`context.storageUri`, a different folder for each window of the same workspace).
 * - `none`: there was none (or it was moved before).
 * - `moved`: it now is the folder's store; its run worktrees stay where they were (see `LEFT_BEHIND`).
 * - `kept`: the folder already had a store; the old one stays where it is, not merged (said once).
 * - `deferred`: it could not be moved now (another process owns it, or the copy failed); the window
 *   opens it where it is this time, so no run goes missing, and the move is tried on the next start.
 */
export type StoreMove =
  | { kind: 'none' }
  | { kind: 'moved'; from: string; worktreesLeftIn?: string }
  | { kind: 'kept'; from: string }
  | { kind: 'deferred'; from: string; reason: string };

/** The store the window opens, and what happened to its old one. */
export interface PreparedStore {
  stateDir: string;
  move: StoreMove;
}

/**
 * Left in the old folder: the lock and the API address belong to the process that wrote them, and a
 * run's worktree is named by absolute path both in its run's record and in git's own worktree list,
 * so moving it would break both (a run still going resumes in it; cleanup finds it).
 */
const LEFT_BEHIND = new Set(['owner.lock', 'api.json', 'worktrees']);
/** A folder holding only these has no runs in it (a CLI that stopped before its first record, a new window's `.gitignore`). */
const NO_RUNS = new Set(['.gitignore', 'owner.lock', 'api.json']);
/** Written into the old folder after the move, for a human looking there. */
export const MOVED_NOTE = 'moved-to.json';
/** Written into an old store left apart (the folder had its own): it is named in the log once, not at every start. */
export const KEPT_NOTE = 'kept-apart.json';

/** A snapshot of any generation: `snapshot.sqlite`, or one named after its last record. */
const SNAPSHOT_NAME = /^snapshot.*\.sqlite$/;

/** Whether `dir` holds a store (a snapshot or journal segments), i.e. runs that must not be lost. */
export function holdsStore(dir: string): boolean {
  try {
    if (fs.readdirSync(dir).some((name) => SNAPSHOT_NAME.test(name))) return true;
    return fs.readdirSync(journalDir(dir)).length > 0;
  } catch {
    return false;
  }
}

/**
 * Readies the folder's store before the engine opens it: adopts the window's old workspace-storage store
 * when the folder has none yet (says in the log what happened), and keeps the store out of git (it lives
 * inside the project, next to the committed `.orchestr8/workflows`).
 */
export async function prepareWorkspaceStore(options: { stateDir: string; previousDir?: string; logger: Logger }): Promise<PreparedStore> {
  const { stateDir, previousDir, logger } = options;
  const move =
    previousDir && path.resolve(previousDir) !== path.resolve(stateDir) ? await adoptPreviousStore(previousDir, stateDir) : ({ kind: 'none' } as const);
  switch (move.kind) {
    case 'moved':
      logger.info(
        `moved this workspace's runs from ${move.from} (this window's own storage) to ${stateDir}, where every window and the CLI find them` +
          (move.worktreesLeftIn ? `; run worktrees stay in ${move.worktreesLeftIn}, where their runs and git name them` : ''),
      );
      break;
    case 'kept':
      logger.warn(
        `${stateDir} already holds this workspace's runs: older runs of this window stay in ${move.from}, ` +
          `not merged (open that folder with the CLI's --state to see them)`,
      );
      break;
    case 'deferred':
      logger.warn(`this workspace's runs stay in ${move.from} for now (${move.reason}); they move to ${stateDir} on a later start`);
      return { stateDir: move.from, move };
  }
  try {
    await writeStateGitIgnore(stateDir);
  } catch (error) {
    // The engine's open says what is wrong with the folder; this is only the .gitignore.
    logger.warn(`could not write ${path.join(stateDir, '.gitignore')}: ${errorMessage(error)}`);
  }
  return { stateDir, move };
}

/**
 * Copies the old store beside the new location, makes it durable, renames it into place (atomic: a
 * crash leaves either no new store, so the old one is adopted again next time, or the whole copy), and
 * only then removes the old one. The old folder's lock is held throughout, so no process writes to it
 * meanwhile; a window racing with its own old store loses the rename (or the rmdir before it) and keeps
 * its store where it is.
 */
async function adoptPreviousStore(from: string, to: string): Promise<StoreMove> {
  if (!holdsStore(from) || fs.existsSync(path.join(from, KEPT_NOTE))) return { kind: 'none' };
  if (holdsStore(to)) {
    await fs.promises.writeFile(path.join(from, KEPT_NOTE), `${JSON.stringify({ folderStore: to, at: new Date().toISOString() }, null, 2)}\n`).catch(() => {});
    return { kind: 'kept', from };
  }
  const inTo = fs.existsSync(to) ? fs.readdirSync(to) : [];
  const toOwner = readLock(to);
  if (toOwner && isLockLive(toOwner)) return { kind: 'deferred', from, reason: `${to} is being opened by pid ${toOwner.pid} (${toOwner.command})` };
  const stray = inTo.filter((name) => !NO_RUNS.has(name));
  if (stray.length) return { kind: 'deferred', from, reason: `${to} holds other files (${stray.join(', ')})` };

  let lock: ReturnType<typeof acquireLock>;
  try {
    lock = acquireLock(from, 'vscode');
  } catch (error) {
    if (error instanceof StateOwnedError) return { kind: 'deferred', from, reason: `pid ${error.owner.pid} (${error.owner.command}) still owns it` };
    return { kind: 'deferred', from, reason: errorMessage(error) };
  }
  // The pid tells a dead window's leftover from a live one's copy; the suffix keeps two moves in one process apart.
  const staging = `${to}.moving-${process.pid}.${randomBytes(4).toString('hex')}`;
  let renamed = false;
  try {
    await removeDeadStaging(to);
    // First, so that even a copy left by a crash is never offered to `git add`.
    await writeStateGitIgnore(staging);
    const entries = fs.readdirSync(from).filter((name) => !LEFT_BEHIND.has(name) && !name.includes('.tmp-') && name !== MOVED_NOTE && name !== KEPT_NOTE);
    for (const name of entries) await fs.promises.cp(path.join(from, name), path.join(staging, name), { recursive: true, preserveTimestamps: true });
    await fsyncTree(staging);
    await clearRunlessFolder(to);
    await fs.promises.rename(staging, to);
    renamed = true;
    await fsyncDirAsync(path.dirname(to));
    // With the lock held, an api.json there is a dead owner's.
    for (const name of [...entries, 'api.json']) await fs.promises.rm(path.join(from, name), { recursive: true, force: true });
    const worktrees = path.join(from, 'worktrees');
    const worktreesLeftIn = fs.existsSync(worktrees) && fs.readdirSync(worktrees).length ? worktrees : undefined;
    await fs.promises.writeFile(
      path.join(from, MOVED_NOTE),
      `${JSON.stringify({ movedTo: to, at: new Date().toISOString(), ...(worktreesLeftIn ? { worktreesLeftHere: true } : {}) }, null, 2)}\n`,
    );
    return { kind: 'moved', from, ...(worktreesLeftIn ? { worktreesLeftIn } : {}) };
  } catch (error) {
    // Once renamed, the folder's store is whole: what failed is removing the old copy, which only costs space.
    if (renamed) return { kind: 'moved', from };
    await fs.promises.rm(staging, { recursive: true, force: true }).catch(() => {});
    // The old store is removed only after the rename, so it is whole: it stays in use.
    return { kind: 'deferred', from, reason: `the move failed: ${errorMessage(error)}` };
  } finally {
    lock.release();
  }
}

/**
 * Empties the folder's store location when it holds no runs, so the copy can be renamed onto it. Never
 * recursive: another window that has just moved its own store there makes the final rmdir (or the
 * rename after it) fail, and this window keeps its old store where it is.
 */
async function clearRunlessFolder(to: string): Promise<void> {
  if (!fs.existsSync(to)) return;
  const owner = readLock(to);
  if (holdsStore(to) || (owner && isLockLive(owner))) throw new Error(`${to} was opened meanwhile`);
  for (const name of NO_RUNS) await fs.promises.rm(path.join(to, name), { force: true });
  await fs.promises.rmdir(to);
}

/** Copies left by a window that died while moving its store (its pid is gone). */
async function removeDeadStaging(to: string): Promise<void> {
  const prefix = `${path.basename(to)}.moving-`;
  const parent = path.dirname(to);
  for (const name of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (name.startsWith(prefix) && Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) {
      await fs.promises.rm(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

/** fsyncs every file and folder under `dir`: the copy must be on disk before the original goes. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(full);
    else if (entry.isFile()) {
      const handle = await fs.promises.open(full, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await fsyncDirAsync(dir);
}
