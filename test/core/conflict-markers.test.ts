import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { filesStillConflicted, stageIfResolved } from '../../src/core/git/conflict-markers.ts';

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: 'pipe' }).toString();

test('a real merge conflict: files are reported until their markers are gone on disk; stageIfResolved stages only when none is left', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o8-markers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  sh(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'a.txt'), 'one\n');
  writeFileSync(join(dir, 'b.txt'), 'two\n');
  writeFileSync(join(dir, 'c.txt'), 'same\n');
  sh(dir, 'add', '-A');
  sh(dir, 'commit', '-qm', 'base');
  sh(dir, 'checkout', '-qb', 'other');
  writeFileSync(join(dir, 'a.txt'), 'one from other\n');
  writeFileSync(join(dir, 'b.txt'), 'two from other\n');
  sh(dir, 'commit', '-qam', 'other');
  sh(dir, 'checkout', '-q', 'main');
  writeFileSync(join(dir, 'a.txt'), 'one from main\n');
  writeFileSync(join(dir, 'b.txt'), 'two from main\n');
  sh(dir, 'commit', '-qam', 'main');
  assert.throws(() => sh(dir, 'merge', 'other'), 'the merge conflicts');

  return (async () => {
    const unmerged = () => sh(dir, 'diff', '--name-only', '--diff-filter=U').split('\n').filter(Boolean).sort();
    assert.deepEqual(await filesStillConflicted(dir, ['a.txt', 'b.txt', 'c.txt']), ['a.txt', 'b.txt']);
    writeFileSync(join(dir, 'a.txt'), 'one from both\n'); // resolved by hand, not yet staged
    assert.deepEqual(await filesStillConflicted(dir, ['a.txt', 'b.txt']), ['b.txt']);
    assert.deepEqual(await stageIfResolved(dir, ['a.txt', 'b.txt']), ['b.txt']);
    assert.deepEqual(unmerged(), ['a.txt', 'b.txt'], 'with a file left, nothing is staged');
    unlinkSync(join(dir, 'b.txt')); // resolved by deleting it
    assert.deepEqual(await filesStillConflicted(dir, ['a.txt', 'b.txt']), []);
    assert.deepEqual(unmerged(), ['a.txt', 'b.txt'], 'filesStillConflicted only reads');
    assert.deepEqual(await stageIfResolved(dir, ['a.txt', 'b.txt']), []);
    assert.deepEqual(unmerged(), [], 'all resolved: staged, the deleted file as deleted');
    assert.equal(sh(dir, 'status', '--porcelain'), 'M  a.txt\nD  b.txt\n');
  })();
});

test('filesStillConflicted: a line that merely starts with "=======" or "<<<<<<<" text is not a marker; CRLF markers are', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o8-markers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'doc.md'), 'Title\n=========\n<<<<<<<<no space\n');
  writeFileSync(join(dir, 'win.txt'), '<<<<<<< HEAD\r\nx\r\n=======\r\ny\r\n>>>>>>> other\r\n');
  assert.deepEqual(await filesStillConflicted(dir, ['doc.md', 'win.txt']), ['win.txt']);
});
