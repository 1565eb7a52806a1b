import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../util/crash-points.ts';
import { activeSidecarPath } from './active-sidecar.ts';
import { fsyncDir, fsyncDirAsync, writeFileAtomic } from './fs-durable.ts';

/**
 * Snapshot generations in the state folder:
 *   snapshot-<lastSeq>.sqlite         a sql.js export holding every record up to lastSeq (16 digits)
 *   snapshot-<lastSeq>.sqlite.sha256  its checksum, written once the snapshot has been read back and
 *                                     verified: the commit point; a snapshot without one is incomplete
 *   snapshot-<lastSeq>.sqlite.active  its active runs (active-sidecar.ts), written before the checksum;
 *                                     lets an owner take work before the snapshot is loaded
 *   snapshot.sqlite                   the format before checksums; loaded when nothing newer is usable
 * The owner keeps the newest two, so a newest one that fails its checksum falls back to the
 * previous one plus the journal segments folded since (kept until the next snapshot).
 */
export interface SnapshotFile {
  path: string;
  /** The last record it holds (0 for a legacy snapshot not yet opened). */
  lastSeq: number;
  /** `snapshot.sqlite`: no checksum to verify. */
  legacy: boolean;
}

interface Checksum {
  sha256: string;
  bytes: number;
  lastSeq: number;
}

export const LEGACY_SNAPSHOT = 'snapshot.sqlite';
const SNAPSHOT_RE = /^snapshot-(\d{16})\.sqlite$/;

/** A snapshot whose bytes are not the ones written: the message names the file. */
export class SnapshotDamagedError extends Error {}

export function snapshotPath(stateDir: string, lastSeq: number): string {
  return path.join(stateDir, `snapshot-${String(lastSeq).padStart(16, '0')}.sqlite`);
}

const checksumPath = (snapshot: string) => `${snapshot}.sha256`;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Committed snapshots, newest first, then the legacy one if present. */
export function listSnapshots(stateDir: string): SnapshotFile[] {
  if (!fs.existsSync(stateDir)) return [];
  const names = new Set(fs.readdirSync(stateDir));
  const found: SnapshotFile[] = [];
  for (const name of names) {
    const m = SNAPSHOT_RE.exec(name);
    if (m && names.has(`${name}.sha256`)) found.push({ path: path.join(stateDir, name), lastSeq: Number(m[1]), legacy: false });
  }
  found.sort((a, b) => b.lastSeq - a.lastSeq);
  if (names.has(LEGACY_SNAPSHOT)) found.push({ path: path.join(stateDir, LEGACY_SNAPSHOT), lastSeq: 0, legacy: true });
  return found;
}

/** Snapshots written but never committed (the writer died first), and sidecars left by removed ones; only the owner may remove them. */
export function removeIncompleteSnapshots(stateDir: string): void {
  if (!fs.existsSync(stateDir)) return;
  const names = new Set(fs.readdirSync(stateDir));
  for (const name of names) {
    if (SNAPSHOT_RE.test(name) && !names.has(`${name}.sha256`)) fs.rmSync(path.join(stateDir, name), { force: true });
    const checksum = /^(snapshot-\d{16}\.sqlite)\.sha256$/.exec(name);
    if (checksum && !names.has(checksum[1]!)) fs.rmSync(path.join(stateDir, name), { force: true });
    const active = /^(snapshot-\d{16}\.sqlite)\.active$/.exec(name);
    if (active && !(names.has(active[1]!) && names.has(`${active[1]!}.sha256`))) fs.rmSync(path.join(stateDir, name), { force: true });
  }
}

/** The snapshot's bytes, verified against its checksum; throws SnapshotDamagedError naming the file. */
export function readSnapshot(snapshot: SnapshotFile): Buffer {
  const bytes = fs.readFileSync(snapshot.path);
  if (snapshot.legacy) return bytes;
  const name = path.basename(snapshot.path);
  let sum: Checksum;
  try {
    sum = JSON.parse(fs.readFileSync(checksumPath(snapshot.path), 'utf8'));
  } catch (error) {
    throw new SnapshotDamagedError(`snapshot ${name}: its checksum file is unreadable (${(error as Error).message})`);
  }
  if (bytes.length !== sum.bytes) throw new SnapshotDamagedError(`snapshot ${name} has ${bytes.length} bytes, ${sum.bytes} were written`);
  if (sha256(bytes) !== sum.sha256) throw new SnapshotDamagedError(`snapshot ${name} does not match its sha256 checksum`);
  return bytes;
}

/**
 * Writes a snapshot (temp file, fsync, rename), reads it back and compares, then its active-set
 * sidecar, and only then its checksum (the same way): a snapshot that did not reach the disk
 * intact is never committed, and the journal it folds is still all there.
 */
export async function writeSnapshot(stateDir: string, lastSeq: number, bytes: Uint8Array, activeSidecar: Uint8Array): Promise<SnapshotFile> {
  const file = snapshotPath(stateDir, lastSeq);
  const sum: Checksum = { sha256: sha256(bytes), bytes: bytes.length, lastSeq };
  await writeFileAtomic(file, bytes);
  const back = await fs.promises.readFile(file);
  if (back.length !== sum.bytes || sha256(back) !== sum.sha256) {
    await fs.promises.rm(file, { force: true });
    throw new Error(`snapshot ${path.basename(file)} reads back different from what was written`);
  }
  await writeFileAtomic(activeSidecarPath(file), activeSidecar);
  crashPoint('snapshot.sidecar-written');
  await writeFileAtomic(checksumPath(file), Buffer.from(JSON.stringify(sum)));
  return { path: file, lastSeq, legacy: false };
}

/** Uncommits (checksum first), then removes: a crash in between leaves an incomplete snapshot, removed on the next open. */
export async function removeSnapshot(snapshot: SnapshotFile): Promise<void> {
  if (!snapshot.legacy) await fs.promises.rm(checksumPath(snapshot.path), { force: true });
  await fs.promises.rm(snapshot.path, { force: true });
  await fs.promises.rm(activeSidecarPath(snapshot.path), { force: true });
  await fsyncDirAsync(path.dirname(snapshot.path));
}

/** Takes a snapshot that failed to verify out of use, keeping its bytes as `<name>.corrupt`; returns that name. */
export function setSnapshotAside(snapshot: SnapshotFile): string {
  const aside = `${snapshot.path}.corrupt`;
  if (!snapshot.legacy) fs.rmSync(checksumPath(snapshot.path), { force: true });
  fs.rmSync(activeSidecarPath(snapshot.path), { force: true });
  fs.renameSync(snapshot.path, aside);
  fsyncDir(path.dirname(snapshot.path));
  return path.basename(aside);
}
