import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  encodeRecord,
  encodeRecordV1,
  readSegmentHeader,
  scanFrames,
  SEGMENT_HEADER,
  UnsupportedJournalVersionError,
} from '../../src/core/store/journal-format.ts';
import { JournalWriter, listSegments, segmentPath } from '../../src/core/store/journal.ts';
import { replayJournal } from '../../src/core/store/journal-replay.ts';
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
  assert.deepEqual(scanFrames(buf, 1), { entries, damaged: [] });
});

test('a flipped byte or a record out of sequence is skipped as damage; a cut record at the end is a tail', () => {
  const [one, two, three] = [1, 2, 3].map((seq) => encodeRecord({ seq, record: event(seq) }));
  const flipped = Buffer.from(two!);
  flipped[flipped.length - 3]! ^= 0xff;
  const scan = scanFrames(Buffer.concat([one!, flipped, three!]), 1);
  assert.deepEqual(
    scan.entries.map((e) => e.seq),
    [1, 3],
  );
  assert.deepEqual(scan.damaged, [{ offset: one!.length, length: flipped.length, problem: 'checksum mismatch' }]);
  const backwards = scanFrames(Buffer.concat([one!, three!, two!]), 1);
  assert.deepEqual(
    backwards.entries.map((e) => e.seq),
    [1, 3],
  );
  assert.equal(backwards.tail?.problem, 'out-of-order sequence number 2');
  assert.equal(scanFrames(Buffer.concat([one!, three!]), 1, 3).tail?.problem, 'out-of-order sequence number 3', 'beyond the next segment');
  assert.deepEqual(scanFrames(Buffer.concat([one!, two!.subarray(0, 10)]), 1).tail, { offset: one!.length, problem: 'incomplete record' });
});

test('a segment of v1 frames, or of v1 then v2 frames, decodes; damage in either resynchronises on the next frame of either', () => {
  const v1 = [1, 2, 3].map((seq) => encodeRecordV1({ seq, record: event(seq) }));
  const v2 = [4, 5, 6].map((seq) => encodeRecord({ seq, record: event(seq) }));
  assert.deepEqual(
    scanFrames(Buffer.concat(v1), 1).entries.map((e) => e.seq),
    [1, 2, 3],
    'a v1 segment: no header',
  );
  assert.deepEqual(
    scanFrames(Buffer.concat([SEGMENT_HEADER, ...v2]), 4).entries,
    [4, 5, 6].map((seq) => ({ seq, record: event(seq) })),
  );
  const flippedV1 = Buffer.from(v1[1]!);
  flippedV1[flippedV1.length - 2]! ^= 0xff;
  const flippedV2 = Buffer.from(v2[1]!);
  flippedV2[flippedV2.length - 2]! ^= 0xff;
  const scan = scanFrames(Buffer.concat([v1[0]!, flippedV1, v1[2]!, v2[0]!, flippedV2, v2[2]!]), 1);
  assert.deepEqual(
    scan.entries.map((e) => e.seq),
    [1, 3, 4, 6],
  );
  assert.deepEqual(
    scan.damaged.map((d) => d.problem),
    ['checksum mismatch', 'checksum mismatch'],
  );
});

test('a torn segment header is a torn tail: the owner cuts it, and the next write starts the segment with a whole header', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1)]);
  await journal.close();
  const [segment] = listSegments(dir);
  fs.truncateSync(segment!.path, 7); // the first write torn inside its header
  assert.deepEqual(scanFrames(fs.readFileSync(segment!.path), 1).tail, { offset: 0, problem: 'incomplete segment header' });
  const owner = recordingLogger();
  assert.equal(replayJournal(dir, { afterSeq: 0, repair: true, logger: owner }).lastSeq, 0);
  assert.equal(fs.statSync(segment!.path).size, 0);
  const again = new JournalWriter(dir, 0, () => {});
  await again.append([event(1), event(2)]);
  await again.close();
  assert.ok(fs.readFileSync(segment!.path).subarray(0, SEGMENT_HEADER.length).equals(SEGMENT_HEADER), 'a whole header first');
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 0, repair: true, logger: owner }).entries), [1, 2]);
});

test('a segment of a newer format is refused, not repaired: its bytes stay as they are', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1)]);
  await journal.close();
  const [segment] = listSegments(dir);
  const newer = Buffer.concat([Buffer.from('orchestr8 journal v3\n'), Buffer.from('frames this build cannot read')]);
  fs.writeFileSync(segmentPath(dir, 2), newer);
  assert.throws(() => replayJournal(dir, { afterSeq: 0, repair: true, logger: recordingLogger() }), UnsupportedJournalVersionError);
  assert.ok(fs.readFileSync(segmentPath(dir, 2)).equals(newer), 'the newer segment is left as it was');
  assert.ok(fs.existsSync(segment!.path), 'nothing is removed');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['0000000000000001.journal', '0000000000000002.journal']);
});

test('after a v1 segment the writer opens a v2 segment of its own; the v1 one is never appended to', async () => {
  const dir = tempDir();
  const v1 = Buffer.concat([1, 2].map((seq) => encodeRecordV1({ seq, record: event(seq) })));
  fs.writeFileSync(segmentPath(dir, 1), v1);
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: recordingLogger() });
  const journal = new JournalWriter(dir, replay.lastSeq, () => {});
  await journal.append([event(3)]);
  await journal.close();
  assert.ok(fs.readFileSync(segmentPath(dir, 1)).equals(v1), 'the v1 segment is left as it was');
  assert.deepEqual(
    listSegments(dir).map((s) => s.firstSeq),
    [1, 3],
  );
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 0, repair: true, logger: recordingLogger() }).entries), [1, 2, 3]);
  const reopened = new JournalWriter(dir, 3, () => {});
  await reopened.append([event(4)]);
  await reopened.close();
  assert.deepEqual(
    listSegments(dir).map((s) => s.firstSeq),
    [1, 3],
    'a v2 segment is appended to',
  );
});

test('appends made in the same tick share one batch (group commit) and resolve only after onDurable', async () => {
  const dir = tempDir();
  const batches: number[] = [];
  const journal = new JournalWriter(dir, 0, (entries) => batches.push(entries.length));
  const acked: number[] = [];
  const appends = Array.from({ length: 50 }, (_, i) => journal.append([event(i)]).then(() => acked.push(batches.length)));
  await Promise.all(appends);
  assert.deepEqual(batches, [50], 'fifty appends from one tick: one write, one fsync');
  assert.ok(
    acked.every((n) => n === 1),
    'every caller resumed after its batch was applied',
  );
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
  assert.deepEqual(
    closed.map((s) => path.basename(s.path)),
    ['0000000000000001.journal'],
  );
  assert.deepEqual(
    listSegments(dir).map((s) => s.firstSeq),
    [1, 3],
  );
  const replay = replayJournal(dir, { afterSeq: 2, repair: false, logger: recordingLogger() });
  assert.deepEqual(
    replay.entries.map((e) => e.seq),
    [3],
  );
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

/** The open flags of this process's descriptors on `dir`'s segments, from /proc (Linux). */
function segmentFdFlags(dir: string): number[] {
  const flags: number[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory's own descriptor, closed by now
    }
    if (!target.startsWith(fs.realpathSync(dir)) || !target.endsWith('.journal')) continue;
    const line = fs
      .readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags:'))!;
    flags.push(parseInt(line.split(/\s+/)[1]!, 8));
  }
  return flags;
}

test('segments are written through O_DSYNC (one durable write per group commit), across a rotation too', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const dir = tempDir();
  const journal = new JournalWriter(dir, 0, () => {});
  await journal.append([event(1)]);
  const dsync = fs.constants.O_DSYNC;
  assert.deepEqual(
    segmentFdFlags(dir).map((f) => (f & dsync) === dsync),
    [true],
    'the first segment',
  );
  await journal.rotate();
  await journal.append([event(2)]);
  assert.deepEqual(
    segmentFdFlags(dir).map((f) => (f & dsync) === dsync),
    [true],
    'the segment opened by the rotation',
  );
  await journal.close();
  const reopened = new JournalWriter(dir, 2, () => {});
  await reopened.append([event(3)]);
  assert.deepEqual(
    segmentFdFlags(dir).map((f) => (f & dsync) === dsync),
    [true],
    'the newest segment, reopened to append',
  );
  await reopened.close();
  assert.equal(replayJournal(dir, { afterSeq: 0, repair: false, logger: recordingLogger() }).lastSeq, 3);
});

test('an io that writes through O_DSYNC is never asked to fdatasync; one that does not is, once per group commit', async () => {
  for (const dsync of [true, false]) {
    const dir = tempDir();
    let syncs = 0;
    const io = {
      write: (fd: number, data: Buffer) => (fs.writeSync(fd, data), Promise.resolve()),
      fdatasync: (fd: number) => (syncs++, fs.fdatasyncSync(fd), Promise.resolve()),
      ftruncate: (fd: number, length: number) => (fs.ftruncateSync(fd, length), Promise.resolve()),
      dsync,
    };
    const journal = new JournalWriter(dir, 0, () => {}, { io });
    await Promise.all([journal.append([event(1)]), journal.append([event(2)])]);
    await journal.append([event(3)]);
    await journal.close();
    assert.equal(syncs, dsync ? 0 : 2, `dsync ${dsync}`);
    assert.equal(replayJournal(dir, { afterSeq: 0, repair: false, logger: recordingLogger() }).lastSeq, 3);
  }
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

/** Writes `count` one-record appends, rotating before each seq in `rotateAt`; returns the segments. */
async function writeJournal(dir: string, count: number, rotateAt: number[]): Promise<void> {
  const journal = new JournalWriter(dir, 0, () => {});
  for (let seq = 1; seq <= count; seq++) {
    if (rotateAt.includes(seq)) await journal.rotate();
    await journal.append([event(seq)]);
  }
  await journal.close();
}

const seqsOf = (entries: SequencedRecord[]) => entries.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('crash between snapshot rename and segment removal: segments already in the snapshot are skipped, not taken for a gap', async () => {
  const dir = tempDir();
  await writeJournal(dir, 9, [4, 7]);
  assert.deepEqual(
    listSegments(dir).map((s) => s.firstSeq),
    [1, 4, 7],
  );
  const sizes = listSegments(dir).map((s) => fs.statSync(s.path).size);
  // The snapshot holds 1..6 (two folded segments); the owner died before removing either.
  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 6, repair: true, logger: owner });
  assert.deepEqual(seqsOf(replay.entries), [7, 8, 9]);
  assert.equal(replay.lastSeq, 9);
  assert.deepEqual(owner.lines, [], 'nothing reported: nothing is wrong');
  assert.deepEqual(
    listSegments(dir).map((s) => fs.statSync(s.path).size),
    sizes,
    'no segment cut',
  );
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('corrupt')),
    [],
  );
  // Only the first of the two removed: the same for a reader.
  fs.rmSync(listSegments(dir)[0]!.path);
  const reader = recordingLogger();
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 6, repair: false, logger: reader }).entries), [7, 8, 9]);
  assert.deepEqual(reader.lines, []);
  const again = new JournalWriter(dir, replay.lastSeq, () => {});
  await again.append([event(10)]);
  await again.close();
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 6, repair: true, logger: owner }).entries), [7, 8, 9, 10]);
});

/** Frame boundaries of a segment: [offset, end, seq] of each record. */
function framesOf(file: string): [number, number, number][] {
  const buf = fs.readFileSync(file);
  const frames: [number, number, number][] = [];
  const header = readSegmentHeader(buf);
  for (let offset = typeof header === 'object' ? header.length : 0; offset < buf.length; ) {
    const end = offset + 8 + buf.readUInt32LE(offset);
    frames.push([offset, end, scanFrames(buf.subarray(offset, end), 0).entries[0]!.seq]);
    offset = end;
  }
  return frames;
}

test('garbage in the middle of a non-last segment costs only the records it overwrote; the rest survive and seqs go on after the highest', async () => {
  const dir = tempDir();
  await writeJournal(dir, 1000, [334, 667]);
  const [first] = listSegments(dir);
  const frames = framesOf(first!.path);
  const damaged = fs.readFileSync(first!.path);
  const at = Math.floor(damaged.length / 2);
  const garbage = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 151 + 7) % 256));
  garbage.copy(damaged, at);
  fs.writeFileSync(first!.path, damaged);
  const hit = frames.filter(([start, end]) => end > at && start < at + garbage.length);
  assert.ok(hit.length >= 1 && hit.length <= 3);
  const survivors = range(1, 1000).filter((seq) => !hit.some(([, , s]) => s === seq));

  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: owner });
  assert.deepEqual(seqsOf(replay.entries), survivors, 'every intact record survives');
  assert.equal(replay.lastSeq, 1000);
  assert.match(owner.lines.join('\n'), new RegExp(`error journal: 0000000000000001\\.journal is corrupt at offset ${hit[0]![0]}\\b`));
  assert.ok(fs.readFileSync(`${first!.path}.corrupt`).equals(damaged), 'the damaged bytes are kept aside as they were');

  const journal = new JournalWriter(dir, replay.lastSeq, () => {});
  await journal.append([event(1001)]);
  await journal.close();
  const after = replayJournal(dir, { afterSeq: 0, repair: true, logger: recordingLogger() });
  assert.deepEqual(seqsOf(after.entries), [...survivors, 1001], 'a fresh seq, none reused');
});

test('garbage inside the newest segment with whole records after it is corruption, not a torn tail: nothing after it is cut', async () => {
  const dir = tempDir();
  await writeJournal(dir, 40, [21]);
  const newest = listSegments(dir)[1]!;
  const frames = framesOf(newest.path);
  const original = fs.readFileSync(newest.path);
  const cut = frames[5]![1]; // after seq 26
  const garbage = Buffer.alloc(4096, 0xab);
  fs.writeFileSync(newest.path, Buffer.concat([original.subarray(0, cut), garbage, original.subarray(cut)]));
  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: owner });
  assert.deepEqual(seqsOf(replay.entries), range(1, 40));
  assert.match(owner.lines.join('\n'), new RegExp(`error journal: 0000000000000021\\.journal is corrupt at offset ${cut}\\b`));
  assert.ok(fs.existsSync(`${newest.path}.corrupt`));
  const journal = new JournalWriter(dir, replay.lastSeq, () => {});
  await journal.append([event(41)]);
  await journal.close();
  const quiet = recordingLogger();
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 0, repair: true, logger: quiet }).entries), range(1, 41));
  assert.deepEqual(quiet.lines, [], 'repaired once: the next open finds a clean journal');
});

test('records in a set-aside segment (*.corrupt) are never given again: new records start above them', async () => {
  const dir = tempDir();
  await writeJournal(dir, 30, [21]);
  const later = listSegments(dir)[1]!;
  fs.renameSync(later.path, `${later.path}.corrupt`); // what an earlier version did to the segments after a bad one
  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: owner });
  assert.deepEqual(seqsOf(replay.entries), range(1, 20));
  assert.equal(replay.lastSeq, 30);
  const journal = new JournalWriter(dir, replay.lastSeq, () => {});
  await journal.append([event(31)]);
  await journal.close();
  const reopened = recordingLogger();
  assert.deepEqual(seqsOf(replayJournal(dir, { afterSeq: 0, repair: true, logger: reopened }).entries), [...range(1, 20), 31]);
  assert.match(reopened.lines.join('\n'), /warn journal: records 21–30 are only in set-aside copies/);
});

test('garbage over the end of a non-last segment: the records after it survive, the loss is reported, and the journal still opens after the repair', async () => {
  const dir = tempDir();
  await writeJournal(dir, 60, [31]);
  const [first] = listSegments(dir);
  const frames = framesOf(first!.path);
  const at = frames[27]![0]; // seqs 28..30 overwritten, nothing valid after them in this segment
  const damaged = fs.readFileSync(first!.path);
  damaged.fill(0x5a, at);
  fs.writeFileSync(first!.path, damaged);
  const owner = recordingLogger();
  const replay = replayJournal(dir, { afterSeq: 0, repair: true, logger: owner });
  assert.deepEqual(seqsOf(replay.entries), [...range(1, 27), ...range(31, 60)]);
  assert.match(owner.lines.join('\n'), new RegExp(`error journal: 0000000000000001\\.journal is corrupt at offset ${at}\\b`));
  assert.match(owner.lines.join('\n'), /error journal: records 28–30 were in the unreadable end of 0000000000000001\.journal and are lost/);
  const again = recordingLogger();
  const reopened = replayJournal(dir, { afterSeq: 0, repair: true, logger: again });
  assert.deepEqual(seqsOf(reopened.entries), [...range(1, 27), ...range(31, 60)]);
  assert.match(again.lines.join('\n'), /warn journal: records 28–30 were lost to damage at the end of 0000000000000001\.journal/);
  assert.equal(reopened.lastSeq, 60);
});
