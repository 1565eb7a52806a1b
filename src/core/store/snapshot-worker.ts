import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { scanFrames } from './journal-format.ts';
import { readSnapshot, writeSnapshot } from './snapshot-files.ts';
import type { SnapshotReply, SnapshotRequest } from './snapshot-protocol.ts';
import { StateDb } from './state-db.ts';

/**
 * Runs off the main thread so a large export() never stalls the engine: keeps its
 * own copy of the database, folds closed journal segments into it, and writes the
 * snapshot (checksummed, read back). The store removes anything only after this succeeds.
 */
let db: StateDb | undefined;

parentPort!.on('message', (request: SnapshotRequest) => {
  void handle(request).then((reply) => parentPort!.postMessage(reply));
});

async function handle(request: SnapshotRequest): Promise<SnapshotReply> {
  const started = Date.now();
  try {
    if (!db) db = await StateDb.open(request.base ? readSnapshot(request.base) : undefined);
    const { segments } = request;
    for (let i = 0; i < segments.length; i++) {
      const next = segments[i + 1];
      if (next && next.firstSeq - 1 <= db.lastSeq) continue; // wholly in the copy already
      const scan = scanFrames(fs.readFileSync(segments[i]!.path), segments[i]!.firstSeq, next?.firstSeq);
      const bad = scan.damaged[0] ?? scan.tail;
      if (bad) throw new Error(`closed segment ${segments[i]!.path} is damaged at offset ${bad.offset}: ${bad.problem}`);
      db.apply(scan.entries);
    }
    const bytes = db.export();
    const snapshot = await writeSnapshot(request.stateDir, db.lastSeq, bytes);
    return { type: 'done', snapshot, bytes: bytes.length, ms: Date.now() - started };
  } catch (error) {
    db?.close();
    db = undefined; // reload from disk next time rather than trust a half-applied copy
    return { type: 'error', message: (error as Error).message };
  }
}
