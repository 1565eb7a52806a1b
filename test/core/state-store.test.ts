import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { JournalWriter, listSegments } from '../../src/core/store/journal.ts';
import { listSnapshots } from '../../src/core/store/snapshot-files.ts';
import { acquireLock, lockPath, StateOwnedError } from '../../src/core/store/state-lock.ts';
import { journalDir, StateStore } from '../../src/core/store/state-store.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { tempDir } from '../support/temp-dir.ts';

const run = (id: string, state: RunRecord['state'] = 'running'): RunRecord => ({
  id,
  name: `run ${id}`,
  inputs: {},
  state,
  single: false,
  cwd: '/tmp',
  createdAt: Date.now(),
});

test('a second owner is refused with an error naming the first; readers are welcome', async () => {
  const dir = tempDir();
  const owner = await StateStore.openOwner(dir, { command: 'test owner' });
  await assert.rejects(StateStore.openOwner(dir), (error: unknown) => {
    assert.ok(error instanceof StateOwnedError);
    assert.equal(error.owner.pid, process.pid);
    assert.match(error.message, new RegExp(`owned by pid ${process.pid} \\(test owner`));
    return true;
  });
  await owner.commit([{ t: 'run', run: run('aaa') }]);
  const reader = await StateStore.openReader(dir);
  assert.equal((await reader.index.getRun('aaa'))?.name, 'run aaa');
  await assert.rejects(reader.commit([{ t: 'run', run: run('bbb') }]), /read-only/);
  await reader.close();
  await owner.close();
  assert.equal(fs.existsSync(lockPath(dir)), false, 'lock released on close');
});

test('the lock of a dead process is taken over, and the previous owner is reported', async () => {
  const dir = tempDir();
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout.trim());
  fs.writeFileSync(lockPath(dir), JSON.stringify({ pid: deadPid, hostname: os.hostname(), startedAt: 1, command: 'crashed' }));
  const lock = acquireLock(dir, 'new owner');
  assert.equal(lock.previous?.pid, deadPid);
  assert.equal(JSON.parse(fs.readFileSync(lockPath(dir), 'utf8')).pid, process.pid);
  lock.release();
});

test('state survives close and reopen, through snapshots folded by the worker thread', async () => {
  const dir = tempDir();
  const store = await StateStore.openOwner(dir, { snapshotThreshold: 2048 });
  for (let i = 0; i < 200; i++) await store.commit([{ t: 'run', run: run(`r${String(i).padStart(3, '0')}`) }]);
  await store.snapshot();
  await store.commit([{ t: 'run', run: run('last', 'completed') }]);
  await store.close();
  assert.ok(listSnapshots(dir).length >= 1, 'snapshot written');
  assert.ok(listSegments(journalDir(dir)).length <= 3, 'segments folded before the previous snapshot removed');
  const reopened = await StateStore.openOwner(dir);
  assert.equal((await reopened.index.listRuns(1000, 0)).total, 201);
  assert.equal((await reopened.index.getRun('last'))?.state, 'completed');
  assert.equal((await reopened.index.getRun('r150'))?.name, 'run r150');
  await reopened.close();
});

test('a reader opened while the owner writes sees exactly what was acknowledged before it opened', async () => {
  const dir = tempDir();
  const owner = await StateStore.openOwner(dir, { snapshotThreshold: 4096 });
  for (let i = 0; i < 50; i++) await owner.commit([{ t: 'run', run: run(`a${i}`) }]);
  const reader = await StateStore.openReader(dir);
  await owner.commit([{ t: 'run', run: run('later') }]);
  assert.equal((await reader.index.listRuns(100, 0)).total, 50);
  assert.equal(await reader.index.getRun('later'), undefined);
  await reader.close();
  await owner.close();
});

test('a store whose journal has garbage in the middle of its first segment of three opens with every intact run, and new records get fresh seqs', async () => {
  const dir = tempDir();
  const journal = new JournalWriter(journalDir(dir), 0, () => {});
  for (let i = 1; i <= 1000; i++) {
    if (i === 334 || i === 667) await journal.rotate();
    await journal.append([{ t: 'run', run: run(`r${i}`) }]);
  }
  await journal.close();
  const first = listSegments(journalDir(dir))[0]!.path;
  const bytes = fs.readFileSync(first);
  const at = Math.floor(bytes.length / 2);
  bytes.fill(0xee, at, at + 50);
  fs.writeFileSync(first, bytes);
  const errors: string[] = [];
  const owner = await StateStore.openOwner(dir, { logger: { debug: () => {}, info: () => {}, warn: () => {}, error: (m) => errors.push(m) } });
  const ids = Array.from({ length: 1000 }, (_, i) => `r${i + 1}`);
  const found = await Promise.all(ids.map((id) => owner.index.getRun(id)));
  const present = ids.filter((_, i) => found[i]);
  assert.ok(present.length >= 997 && present.length < 1000, `${present.length} of 1000: only the overwritten runs are gone`);
  assert.ok(present.includes('r1000') && present.includes('r334'));
  assert.match(errors.join('\n'), /0000000000000001\.journal is corrupt at offset \d+/);
  await owner.commit([{ t: 'run', run: run('new') }]);
  assert.equal(await owner.index.lastSeq(), 1001);
  await owner.close();
});

test('a store opened by any owner (the CLI too) inside a git repository is never offered to git', async () => {
  const project = tempDir('o8-project-');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: project, encoding: 'utf8' });
  git('init', '-q');
  const stateDir = path.join(project, '.orchestr8', 'state');
  const store = await StateStore.openOwner(stateDir);
  try {
    await store.commit([{ t: 'event', event: { type: 'test', at: 1 } }]);
    assert.equal(git('status', '--porcelain', '--untracked-files=all'), '', 'nothing of the store shows in git status');
  } finally {
    await store.close();
  }
});
