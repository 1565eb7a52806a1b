import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { scanFrames } from './journal-format.ts';
import { writeFileAtomic } from './fs-durable.ts';
import type { SnapshotReply, SnapshotRequest } from './snapshot-protocol.ts';
import { StateDb } from './state-db.ts';

/**
 * Runs off the main thread so a large export() never stalls the engine: keeps its
 * own copy of the database, folds closed journal segments into it, and writes the
 * snapshot atomically. The store deletes the segments only after this succeeds.
 */
let db: StateDb | undefined;

parentPort!.on('message', (request: SnapshotRequest) => {
  void handle(request).then((reply) => parentPort!.postMessage(reply));
});

async function handle(request: SnapshotRequest): Promise<SnapshotReply> {
  const started = Date.now();
  try {
    if (!db) db = await StateDb.open(fs.existsSync(request.snapshotPath) ? fs.readFileSync(request.snapshotPath) : undefined);
    for (const segment of request.segments) {
      const scan = scanFrames(fs.readFileSync(segment), 0);
      const bad = scan.damaged[0] ?? scan.tail;
      if (bad) throw new Error(`closed segment ${segment} is damaged at offset ${bad.offset}: ${bad.problem}`);
      db.apply(scan.entries);
    }
    const bytes = db.export();
    await writeFileAtomic(request.snapshotPath, bytes);
    return { type: 'done', lastSeq: db.lastSeq, bytes: bytes.length, ms: Date.now() - started };
  } catch (error) {
    db?.close();
    db = undefined; // reload from disk next time rather than trust a half-applied copy
    return { type: 'error', message: (error as Error).message };
  }
}
