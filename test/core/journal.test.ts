import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { decodeRecords, encodeRecord } from '../../src/core/store/journal-format.ts';
import { JournalWriter, listSegments, replayJournal } from '../../src/core/store/journal.ts';
import type { SequencedRecord } from '../../src/core/store/store-records.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { tempDir } from '../support/temp-dir.ts';

const event = (n: number) => ({ t: 'event' as const, event: { type: 'test', at: n } });

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: () => {}, info: () => {}, warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

test('records round-trip with sequence numbers and checksums', () => {
  const entries: SequencedRecord[] = [1, 2, 3].map((seq) => ({ seq, record: event(seq) }));
  const buf = Buffer.concat(entries.map(encodeRecord));
  const decoded = decodeRecords(buf, 1);
  assert.deepEqual(decoded.entries, entries);
  assert.equal(decoded.validLength, buf.length);
  assert.equal(decoded.problem, undefined);
});

test('a flipped byte, a gap in sequence and a cut record each stop decoding at the last good record', () => {
  const good = encodeRecord({ seq: 1, record: event(1) });
  const second = encodeRecord({ seq: 2, record: event(2) });
  const flipped = Buffer.from(second);
  flipped[flipped.length - 3]! ^= 0xff;
  assert.equal(decodeRecords(Buffer.concat([good, flipped]), 1).problem, 'checksum mismatch');
  assert.equal(decodeRecords(Buffer.concat([good, flipped]), 1).validLength, good.length);
  const gap = encodeRecord({ seq: 5, record: event(5) });
  assert.match(decodeRecords(Buffer.concat([good, gap]), 1).problem!, /sequence gap: expected 2, found 5/);
  assert.equal(decodeRecords(Buffer.concat([good, second.subarray(0, 10)]), 1).problem, 'incomplete record');
});

test('appends made in the same tick share one batch (group commit) and resolve only after onDurable', async () => {
  const dir = tempDir();
  const batches: number[] = [];
  const journal = new JournalWriter(dir, 0, (entries) => batches.push(entries.length));
  const acked: number[] = [];
  const appends = Array.from({ length: 50 }, (_, i) => journal.append([event(i)]).then(() => acked.push(batches.length)));
  await Promise.all(appends);
  assert.deepEqual(batches, [50], 'fifty appends from one tick: one write, one fsync');
  assert.ok(acked.every((n) => n === 1), 'every caller resumed after its batch was applied');
  await Promise.all([journal.append([event(50)]), journal.append([event(51), event(52)])]);
  assert.deepEqual(batches, [50, 3]);
  await journal.close();
  assert.equal(replayJournal(dir, { afterSeq: 0, repair: false, logger: recordingLogger() }).lastSeq, 53);
});

test('a torn tail is cut off on owner replay and reported; readers leave the file alone', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1), event(2), event(3)]);
  await journal.close();
  const [segment] = listSegments(dir);
  const whole = fs.statSync(segment!.path).size;
  const next = encodeRecord({ seq: 4, record: event(4) });
  fs.appendFileSync(segment!.path, next.subarray(0, next.length - 4)); // crash mid-write

  const reader = recordingLogger();
  assert.equal(replayJournal(dir, { afterSeq: 0, repair: false, logger: reader }).lastSeq, 3);
  assert.equal(fs.statSync(segment!.path).size, whole + next.length - 4, 'a reader writes nothing');
  assert.match(reader.lines[0]!, /ignoring a torn tail of \d+ bytes/);

  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: owner });
  assert.equal(replay.lastSeq, 3);
  assert.equal(fs.statSync(segment!.path).size, whole, 'torn bytes removed');
  assert.match(owner.lines[0]!, /truncated a torn tail of \d+ bytes at offset \d+ of 0000000000000001\.journal \(incomplete record\)/);

  // Appending continues cleanly after the cut.
  const again = new JournalWriter(dir, replay.lastSeq, () => {});
  await again.append([event(4)]);
  await again.close();
  assert.equal(replayJournal(dir, { afterSeq: 0, repair: true, logger: owner }).lastSeq, 4);
});

test('rotation hands over closed segments and replay skips what a snapshot already holds', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1), event(2)]);
  const closed = await journal.rotate();
  await journal.append([event(3)]);
  await journal.close();
  assert.deepEqual(closed.map((s) => path.basename(s.path)), ['0000000000000001.journal']);
  assert.deepEqual(listSegments(dir).map((s) => s.firstSeq), [1, 3]);
  const replay = replayJournal(dir, { afterSeq: 2, repair: false, logger: recordingLogger() });
  assert.deepEqual(replay.entries.map((e) => e.seq), [3]);
});

test('a missing segment is reported, never silently skipped', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1)]);
  await journal.rotate();
  await journal.append([event(2)]);
  await journal.close();
  fs.rmSync(listSegments(dir)[0]!.path);
  assert.throws(() => replayJournal(dir, { afterSeq: 0, repair: true, logger: recordingLogger() }), /records after 0 are missing/);
});

test('a failed write rejects its callers and every later append; nothing half-written stays', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1)]);
  const [segment] = listSegments(dir);
  const size = fs.statSync(segment!.path).size;
  // Close the descriptor under the writer: the next write fails with EBADF.
  fs.closeSync((journal as unknown as { fd: number }).fd);
  await assert.rejects(journal.append([event(2)]), /journal write failed: EBADF/);
  await assert.rejects(journal.append([event(3)]), /journal write failed/);
  assert.equal(fs.statSync(segment!.path).size, size);
});
