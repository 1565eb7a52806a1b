import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { TaskLogs } from '../../src/core/engine/task-logs.ts';
import { writeFileAtomic } from '../../src/core/store/fs-durable.ts';
import { fillDisk, freeBytes, mountSmallFs } from '../support/small-fs.ts';
import { tempDir } from '../support/temp-dir.ts';

test('output of a task whose log cannot be written at all is dropped without an exception, reported once', () => {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'run1'), 'a file where the run folder should be');
  const errors: string[] = [];
  const writer = new TaskLogs(root, (file, error) => errors.push(`${path.basename(file)}: ${(error as NodeJS.ErrnoException).code}`)).open(
    'run1',
    'a',
    '--- attempt 1 ---\n',
  );
  assert.doesNotThrow(() => {
    writer.write('one\n');
    writer.write('two\n');
    writer.close();
  });
  assert.deepEqual(errors, ['a.log: EEXIST'], 'one report for the outage, not one per chunk');
});

test('on a full disk task output is dropped, not thrown, and the log says how much as soon as it can be written again', (t) => {
  const mount = mountSmallFs(t, '1m');
  if (!mount) return;
  const errors: unknown[] = [];
  const logs = new TaskLogs(path.join(mount, 'logs'), (_file, error) => errors.push(error));
  const writer = logs.open('run1', 'a', '--- attempt 1 ---\n');
  writer.write('before\n');
  const filler = path.join(mount, 'filler');
  fillDisk(filler);

  const big = 'x'.repeat(100_000);
  assert.doesNotThrow(() => {
    writer.write(big); // what fits in the file's last page goes in, the rest is dropped
    writer.write('the end of a line');
  });
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOSPC');

  fs.rmSync(filler);
  writer.write('after\n');
  writer.close();
  const text = logs.file('run1', 'a');
  const match = /^--- attempt 1 ---\nbefore\n(x*)\n\[orchestr8: (\d+) bytes of output dropped: disk full\]\nafter\n$/.exec(fs.readFileSync(text, 'utf8'));
  assert.ok(match, `unexpected log: ${JSON.stringify(fs.readFileSync(text, 'utf8').replace(/x{20,}/, 'xxx…'))}`);
  assert.equal(match[1]!.length + Number(match[2]), big.length + 'the end of a line'.length, 'every byte is either in the log or counted in the note');
});

test('a snapshot write that fails on a full disk removes its temp file, so it keeps no space', async (t) => {
  const mount = mountSmallFs(t, '1m');
  if (!mount) return;
  const target = path.join(mount, 'snapshot.sqlite');
  await writeFileAtomic(target, Buffer.from('the previous snapshot'));
  fillDisk(path.join(mount, 'filler'));
  fs.truncateSync(path.join(mount, 'filler'), fs.statSync(path.join(mount, 'filler')).size - 256 * 1024);
  const free = freeBytes(mount);
  await assert.rejects(writeFileAtomic(target, Buffer.alloc(512 * 1024)), /ENOSPC/);
  assert.deepEqual(fs.readdirSync(mount).sort(), ['filler', 'snapshot.sqlite'], 'no temp file left behind');
  assert.equal(freeBytes(mount), free, 'the space the failed write took is free again');
  assert.equal(fs.readFileSync(target, 'utf8'), 'the previous snapshot');
});
