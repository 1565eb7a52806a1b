// Where a window keeps a workspace folder's runs, and how it adopts the store it used to keep in its own
// workspace storage. Real parts: real folders, a real engine on a real sql.js store, real git.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { resolveStateDir } from '../../src/cli/state-location.ts';
import type { Logger } from '../../src/core/util/logger.ts';
import { openWorkspaceEngine, tryOpenOwner, type OpenEngineOptions, type WorkspaceEngine } from '../../src/extension/open-engine.ts';
import { workspaceStateDir } from '../../src/extension/store-location.ts';
import { holdsStore, MOVED_NOTE, prepareWorkspaceStore } from '../../src/extension/store-migration.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'o8-store-')));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A workspace folder, and two windows' workspace storage folders (VS Code gave the second tab `…-1`). */
function workspace(): { folder: string; storageA: string; storageB: string } {
  const root = tempDir();
  const folder = join(root, 'project');
  mkdirSync(folder);
  return {
    folder,
    storageA: join(root, 'workspaceStorage', 'abc123', 'orchestr8.orchestr8'),
    storageB: join(root, 'workspaceStorage', 'abc123-1', 'orchestr8.orchestr8'),
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (message: string, error?: unknown) => void lines.push(`${level}: ${message}${error ? ` ${String(error)}` : ''}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

async function open(stateDir: string, cwd: string): Promise<WorkspaceEngine> {
  const options: OpenEngineOptions = {
    stateDir,
    cwd,
    concurrency: 2,
    defaultModel: 'm',
    apiKey: async () => undefined,
    logger: recordingLogger(),
    ownerWaitMs: 0,
    localApi: false,
  };
  const opened = await openWorkspaceEngine(options);
  cleanups.push(() => opened.close());
  return opened;
}

function finished(opened: WorkspaceEngine, runId: string): Promise<EngineEvent> {
  return new Promise((resolve) => {
    const sub = opened.engine.onEvent((e) => {
      if ((e.type === 'workflow.completed' || e.type === 'workflow.failed') && e.run.id === runId) {
        sub.dispose();
        resolve(e);
      }
    });
  });
}

/** Opens `stateDir` as a window of an older version did, runs one shell task to the end, closes it. */
async function storeWithOneRun(stateDir: string, cwd: string): Promise<{ runId: string; taskId: string }> {
  const opened = await open(stateDir, cwd);
  const { runId, taskIds } = await opened.engine.launch({ task: { name: 'old work', action: { kind: 'run', run: 'echo done before the move' } }, cwd });
  assert.equal((await finished(opened, runId)).type, 'workflow.completed');
  await opened.close();
  return { runId, taskId: taskIds[0]! };
}

test('the store is the folder’s own: the CLI’s default for the project, the same through a symlink', () => {
  const { folder } = workspace();
  const saved = process.env['ORCHESTR8_STATE'];
  delete process.env['ORCHESTR8_STATE'];
  try {
    assert.equal(workspaceStateDir(folder), resolveStateDir(undefined, folder), 'the CLI run in the folder opens the same store');
  } finally {
    if (saved !== undefined) process.env['ORCHESTR8_STATE'] = saved;
  }
  const link = join(tempDir(), 'link-to-project');
  symlinkSync(folder, link);
  assert.equal(workspaceStateDir(link), workspaceStateDir(folder));
  assert.equal(workspaceStateDir(folder), join(folder, '.orchestr8', 'state'));
});

test('a store is a journal or a snapshot of any generation; a folder of notes and worktrees is none', () => {
  const dir = tempDir();
  assert.equal(holdsStore(join(dir, 'missing')), false);
  mkdirSync(join(dir, 'worktrees', 'r1'), { recursive: true });
  writeFileSync(join(dir, MOVED_NOTE), '{}');
  assert.equal(holdsStore(dir), false);
  writeFileSync(join(dir, 'snapshot-0000000000000042.sqlite'), 'x');
  assert.equal(holdsStore(dir), true);
  rmSync(join(dir, 'snapshot-0000000000000042.sqlite'));
  mkdirSync(join(dir, 'journal'));
  assert.equal(holdsStore(dir), false, 'an empty journal folder holds nothing');
  writeFileSync(join(dir, 'journal', '0000000000000001.journal'), 'x');
  assert.equal(holdsStore(dir), true);
});

test('two windows of one folder, each with its own workspace storage, open one store: one owns it, the other follows it and takes over', async () => {
  const { folder, storageA, storageB } = workspace();
  const a = await prepareWorkspaceStore({ stateDir: workspaceStateDir(folder), previousDir: storageA, logger: recordingLogger() });
  const b = await prepareWorkspaceStore({ stateDir: workspaceStateDir(folder), previousDir: storageB, logger: recordingLogger() });
  assert.equal(a.stateDir, b.stateDir);

  const first = await open(a.stateDir, folder);
  assert.equal(first.kind, 'owner');
  const { runId } = await first.engine.launch({ task: { name: 'seen by both', action: { kind: 'run', run: 'echo hi' } }, cwd: folder });
  await finished(first, runId);
  const second = await open(b.stateDir, folder);
  assert.equal(second.kind, 'reader', 'the second window follows the owner');
  assert.deepEqual(
    (await second.engine.list()).runs.map((r) => r.id),
    [runId],
    'and shows its runs',
  );

  await first.close();
  const taken = await tryOpenOwner({
    stateDir: b.stateDir,
    cwd: folder,
    concurrency: 2,
    defaultModel: 'm',
    apiKey: async () => undefined,
    logger: recordingLogger(),
    localApi: false,
  });
  assert.ok(taken, 'the follower takes over once the owner has gone');
  cleanups.push(() => taken.close());
  assert.equal((await taken.engine.status(runId)).run.state, 'completed');
});

test('first open: the window’s old workspace-storage store moves to the folder, runs and logs whole; the log says so', async () => {
  const { folder, storageA } = workspace();
  const { runId, taskId } = await storeWithOneRun(storageA, folder);
  mkdirSync(join(storageA, 'worktrees', runId), { recursive: true });
  writeFileSync(join(storageA, 'worktrees', runId, 'file.txt'), 'a run’s worktree\n');
  // Left by the old window's engine if its host was killed: names a dead process's port.
  writeFileSync(join(storageA, 'api.json'), JSON.stringify({ url: 'http://127.0.0.1:1', pid: 4194305 }));
  const logger = recordingLogger();
  const stateDir = workspaceStateDir(folder);

  const prepared = await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger });
  assert.equal(prepared.stateDir, stateDir);
  assert.equal(prepared.move.kind, 'moved');
  assert.match(
    logger.lines.join('\n'),
    new RegExp(`info: moved this workspace's runs from ${storageA} .* to ${stateDir}.*run worktrees stay in ${join(storageA, 'worktrees')}`),
  );
  assert.ok(!holdsStore(storageA), 'the old store is gone');
  assert.equal(JSON.parse(readFileSync(join(storageA, MOVED_NOTE), 'utf8')).movedTo, stateDir);
  assert.ok(existsSync(join(storageA, 'worktrees', runId, 'file.txt')), 'worktrees stay where their runs and git name them');
  assert.ok(!existsSync(join(stateDir, 'owner.lock')), 'no lock came along');
  assert.ok(!existsSync(join(stateDir, 'api.json')) && !existsSync(join(storageA, 'api.json')), 'a dead owner’s API address neither came along nor stayed');

  const reopened = await open(stateDir, folder);
  assert.equal(reopened.kind, 'owner');
  assert.equal((await reopened.engine.status(runId)).run.state, 'completed');
  assert.match(await reopened.engine.log(taskId), /done before the move/);
  await reopened.close();

  // The next start finds nothing left to move.
  const again = await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger: recordingLogger() });
  assert.deepEqual(again.move, { kind: 'none' });
});

test('the folder already has a store: the window’s old one stays where it is, untouched, and the log says where', async () => {
  const { folder, storageA, storageB } = workspace();
  const stateDir = workspaceStateDir(folder);
  const kept = await storeWithOneRun(storageB, folder);
  const current = await storeWithOneRun(stateDir, folder);
  const logger = recordingLogger();

  const prepared = await prepareWorkspaceStore({ stateDir, previousDir: storageB, logger });
  assert.equal(prepared.stateDir, stateDir);
  assert.equal(prepared.move.kind, 'kept');
  assert.match(logger.lines.join('\n'), new RegExp(`warn: .*older runs of this window stay in ${storageB}`));
  assert.ok(holdsStore(storageB));
  const folderStore = await open(stateDir, folder);
  assert.deepEqual(
    (await folderStore.engine.list()).runs.map((r) => r.id),
    [current.runId],
  );
  await folderStore.close();
  const oldStore = await open(storageB, folder);
  assert.deepEqual(
    (await oldStore.engine.list()).runs.map((r) => r.id),
    [kept.runId],
  );
  // Said once, not at every start; and a window with no old store has nothing to say.
  const quiet = recordingLogger();
  assert.deepEqual((await prepareWorkspaceStore({ stateDir, previousDir: storageB, logger: quiet })).move, { kind: 'none' });
  assert.deepEqual((await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger: quiet })).move, { kind: 'none' });
  assert.deepEqual(quiet.lines, []);
  assert.ok(holdsStore(storageB), 'still there, untouched');
});

test('an old store still owned by a live process is not moved: the window opens it where it is, and moves it on a later start', async () => {
  const { folder, storageA } = workspace();
  const { runId } = await storeWithOneRun(storageA, folder);
  const oldWindow = await open(storageA, folder);
  const logger = recordingLogger();
  const stateDir = workspaceStateDir(folder);

  const prepared = await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger });
  assert.equal(prepared.stateDir, storageA, 'the runs are where the window looks');
  assert.equal(prepared.move.kind, 'deferred');
  assert.match(
    logger.lines.join('\n'),
    new RegExp(`warn: this workspace's runs stay in ${storageA} for now \\(pid ${process.pid} \\(vscode\\) still owns it\\)`),
  );
  assert.ok(!holdsStore(stateDir));

  await oldWindow.close();
  const later = await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger });
  assert.equal(later.move.kind, 'moved');
  const reopened = await open(stateDir, folder);
  assert.equal((await reopened.engine.status(runId)).run.state, 'completed');
});

test('two windows moving their old stores at once: one moves, the other keeps its own whole, and no run is lost', async () => {
  const { folder, storageA, storageB } = workspace();
  const a = await storeWithOneRun(storageA, folder);
  const b = await storeWithOneRun(storageB, folder);
  const stateDir = workspaceStateDir(folder);

  const [pa, pb] = await Promise.all([
    prepareWorkspaceStore({ stateDir, previousDir: storageA, logger: recordingLogger() }),
    prepareWorkspaceStore({ stateDir, previousDir: storageB, logger: recordingLogger() }),
  ]);
  assert.deepEqual(
    [pa.move.kind, pb.move.kind].filter((k) => k === 'moved'),
    ['moved'],
    `one move: ${pa.move.kind}, ${pb.move.kind}`,
  );
  for (const [prepared, { runId }] of [
    [pa, a],
    [pb, b],
  ] as const) {
    const opened = await open(prepared.stateDir, folder);
    assert.equal((await opened.engine.status(runId)).run.state, 'completed', `run ${runId} is in the store its window opens (${prepared.move.kind})`);
    await opened.close();
  }
});

test('a copy left by a window that died mid-move is cleared, and the move is done again from the whole old store', async () => {
  const { folder, storageA } = workspace();
  const { runId } = await storeWithOneRun(storageA, folder);
  const stateDir = workspaceStateDir(folder);
  // pid 2^22+1 is above Linux's pid_max: no such process.
  const leftover = `${stateDir}.moving-4194305`;
  mkdirSync(join(leftover, 'journal'), { recursive: true });
  writeFileSync(join(leftover, 'journal', 'half-copied.journal'), 'torn');

  assert.equal((await prepareWorkspaceStore({ stateDir, previousDir: storageA, logger: recordingLogger() })).move.kind, 'moved');
  assert.ok(!existsSync(leftover), 'the dead window’s copy is gone');
  const reopened = await open(stateDir, folder);
  assert.equal((await reopened.engine.status(runId)).run.state, 'completed');
});

test('the store inside the project stays out of git: nothing under .orchestr8/state shows in git status', async () => {
  const { folder } = workspace();
  execFileSync('git', ['init', '-q'], { cwd: folder });
  mkdirSync(join(folder, '.orchestr8', 'workflows'), { recursive: true });
  writeFileSync(join(folder, '.orchestr8', 'workflows', 'w.yaml'), 'name: w\ntasks:\n  a:\n    run: echo a\n');
  const stateDir = workspaceStateDir(folder);
  await prepareWorkspaceStore({ stateDir, logger: recordingLogger() });
  const opened = await open(stateDir, folder);
  const { runId } = await opened.engine.launch({ task: { name: 'in place', action: { kind: 'run', run: 'echo x' } }, cwd: folder });
  await finished(opened, runId);
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: folder, encoding: 'utf8' });
  assert.equal(status, '?? .orchestr8/workflows/w.yaml\n', 'only the workflow file is offered to git');
});
