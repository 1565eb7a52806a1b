import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import type { JournalIo } from '../../src/core/store/journal.ts';
import { JournalWriter, listSegments } from '../../src/core/store/journal.ts';
import { replayJournal } from '../../src/core/store/journal-replay.ts';
import type { StorageState } from '../../src/core/store/storage-full.ts';
import { silentLogger } from '../../src/core/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';

const event = (n: number) => ({ t: 'event' as const, event: { type: 'test', at: n } });

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });
}

/**
 * The real file calls, on a disk whose segment cannot grow past `limit` bytes: a write
 * puts down what fits (a short write, as on a real full disk) and then fails with ENOSPC.
 * `failSyncs` fdatasyncs fail with EIO after the data reached the page cache. `refused`
 * counts the writes that failed, `onSyncFailure` is told of each fdatasync that does.
 */
function smallDisk(): { limit: number; failSyncs: number; refused: number; onSyncFailure: () => void; io: JournalIo } {
  const disk = {
    limit: Infinity,
    failSyncs: 0,
    refused: 0,
    onSyncFailure: () => {},
    io: {
      write: async (fd: number, data: Buffer) => {
        const room = Math.max(0, disk.limit - fs.fstatSync(fd).size);
        if (room > 0) fs.writeSync(fd, data, 0, Math.min(room, data.length));
        if (room < data.length) {
          disk.refused++;
          throw errno('ENOSPC', 'write');
        }
      },
      fdatasync: async (fd: number) => {
        if (disk.failSyncs > 0) {
          disk.failSyncs--;
          disk.onSyncFailure();
          throw errno('EIO', 'fdatasync');
        }
        fs.fdatasyncSync(fd);
      },
      ftruncate: async (fd: number, length: number) => fs.ftruncateSync(fd, length),
    },
  };
  return disk;
}

const replayedSeqs = (dir: string) => replayJournal(dir, { afterSeq: 0, repair: false, logger: silentLogger }).entries.map((e) => e.seq);

test('a full disk pauses the journal: callers wait, nothing is rejected, and the batch lands whole once space returns', async () => {
  const dir = tempDir();
  const disk = smallDisk();
  const states: StorageState[] = [];
  const durable: number[] = [];
  const journal = new JournalWriter(dir, 0, (entries) => durable.push(...entries.map((e) => e.seq)), {
    io: disk.io,
    onStorage: (s) => states.push(s),
    retryMs: { first: 5, max: 20 },
  });
  after(() => journal.close()); // gives up pending records if an assertion failed with the disk still full
  await journal.append([event(1), event(2)]);
  const [segment] = listSegments(dir);
  const acknowledged = fs.statSync(segment!.path).size;
  disk.limit = acknowledged + 10; // room for a fragment of the next record only

  const waiting = journal.append([event(3), event(4)]);
  const later = journal.append([event(5)]);
  let settled = false;
  Promise.all([waiting, later]).then(
    () => (settled = true),
    () => (settled = true),
  );
  // The first write and two retries refused: each was a moment to fail the callers, or to report a pause again.
  await until('three refused writes', () => disk.refused >= 3, 10_000);
  assert.equal(settled, false, 'appends wait for space rather than fail');
  assert.equal(journal.storage.state, 'paused');
  assert.match((journal.storage as { reason: string }).reason, /ENOSPC: simulated, write \(journal in .+\)/);
  assert.deepEqual(
    states.map((s) => s.state),
    ['paused'],
    'one pause reported, not one per retry',
  );
  assert.deepEqual(durable, [1, 2]);
  assert.deepEqual(await journal.rotate(), [], 'no rotation (and so no snapshot) while the disk is full');
  assert.equal(fs.statSync(segment!.path).size, acknowledged, 'the fragment a failed write left is cut off');

  disk.limit = Infinity;
  await Promise.all([waiting, later]);
  assert.deepEqual(
    states.map((s) => s.state),
    ['paused', 'ok'],
  );
  assert.equal(journal.storage.state, 'ok');
  assert.deepEqual(durable, [1, 2, 3, 4, 5]);
  await journal.append([event(6)]);
  await journal.close();
  assert.deepEqual(replayedSeqs(dir), [1, 2, 3, 4, 5, 6], 'every record once, in order, no torn bytes between');
});

test('a failed fsync is not trusted: the batch is cut back and written again before anyone is told it is durable', async () => {
  const dir = tempDir();
  const disk = smallDisk();
  const journal = new JournalWriter(dir, 0, () => {}, { io: disk.io, retryMs: { first: 5, max: 20 } });
  await journal.append([event(1)]);
  disk.failSyncs = 2; // the data is in the file, the disk said EIO twice
  let acked = false;
  const ackedAtFailures: boolean[] = [];
  disk.onSyncFailure = () => ackedAtFailures.push(acked);
  const append = journal.append([event(2), event(3)]).then(() => (acked = true));
  await append;
  assert.deepEqual(ackedAtFailures, [false, false], 'nobody was told the batch was durable before its fdatasync succeeded');
  await journal.close();
  assert.deepEqual(replayedSeqs(dir), [1, 2, 3], 'written once: the unsynced copy was cut off before the rewrite');
});

test('closing while the disk is still full drops only records nobody was told are durable', async () => {
  const dir = tempDir();
  const disk = smallDisk();
  const journal = new JournalWriter(dir, 0, () => {}, { io: disk.io, retryMs: { first: 5, max: 20 } });
  await journal.append([event(1)]);
  disk.limit = 0;
  const unacknowledged = journal.append([event(2)]);
  await assert.rejects(
    Promise.all([
      journal.close().then(() => new Promise(() => {})), // close must not wait for space forever
      unacknowledged,
    ]),
    /journal closed while storage is full \(ENOSPC: simulated, write .*\): 1 unacknowledged records were not saved/,
  );
  assert.deepEqual(replayedSeqs(dir), [1]);
});

test('other write errors still break the journal for good', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {}, {
    io: {
      write: async () => {
        throw errno('EBADF', 'write');
      },
      fdatasync: async () => {},
      ftruncate: async () => {},
    },
  });
  await assert.rejects(journal.append([event(1)]), /journal write failed: EBADF: simulated, write; restart to recover/);
  await assert.rejects(journal.append([event(2)]), /journal write failed/);
  assert.equal(journal.storage.state, 'ok');
  assert.deepEqual(await journal.rotate(), []);
});
