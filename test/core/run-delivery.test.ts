import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultsLines } from '../../src/cli/format.ts';
import { Engine } from '../../src/core/engine/engine.ts';
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';
import type { RunHooks } from '../../src/core/engine/run-hooks.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import { runFinished, workflow } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const ONE_TASK = 'name: one\ntasks:\n  a:\n    run: echo a\n';

/** A finished run as versions before `delivery` stored it: the git hooks' results mixed into `options`. */
function oldShapedRun(cwd: string): RunRecord {
  const options = {
    pull_request: { draft: true },
    workspace: 'worktree',
    repoRoot: cwd,
    worktree: `${cwd}/wt`,
    branch: 'orchestr8/old-1234567',
    baseSha: 'abc123',
    pushedTo: 'origin',
    changed: true,
    pullRequestUrl: 'https://github.example/acme/widgets/pull/9',
    pullRequestNumber: 9,
    gitNotes: ['a note'],
  };
  return {
    id: '0123456789abcdef0123456789abcdef',
    name: 'old',
    inputs: {},
    state: 'completed',
    single: false,
    cwd,
    options: options as RunRecord['options'],
    createdAt: 1,
    finishedAt: 2,
    finalized: true,
  };
}

test('a run stored with its pull request in options (before delivery existed) presents it as delivery', async () => {
  const stateDir = tempDir('o8-state-');
  const cwd = tempDir('o8-cwd-');
  const store = await StateStore.openOwner(stateDir);
  await store.commit([{ t: 'run', run: oldShapedRun(cwd) }]);
  await store.close();

  const engine = await Engine.open({ stateDir, cwd });
  try {
    const { run } = await engine.status('0123456789abcdef0123456789abcdef');
    assert.deepEqual(run.options, { pull_request: { draft: true }, workspace: 'worktree' }, 'workflow options stay options');
    assert.deepEqual(run.delivery, {
      workspace: 'worktree',
      repoRoot: cwd,
      worktree: `${cwd}/wt`,
      branch: 'orchestr8/old-1234567',
      baseSha: 'abc123',
      pushedTo: 'origin',
      changed: true,
      pullRequest: { url: 'https://github.example/acme/widgets/pull/9', number: 9 },
      notes: ['a note'],
    });
    assert.deepEqual((await engine.list({ limit: 10 })).runs[0]!.delivery?.pullRequest, { url: 'https://github.example/acme/widgets/pull/9', number: 9 });
    assert.deepEqual(resultsLines(run).slice(0, 2), [
      'pull request: https://github.example/acme/widgets/pull/9',
      `Branch orchestr8/old-1234567, pushed to origin, pull request #9. Worktree ${cwd}/wt`,
    ]);
  } finally {
    await engine.close();
  }
});

test('run.delivered fires for each delivery change, after it is durable, and carries it', async () => {
  const stateDir = tempDir('o8-state-');
  const heard: { event: Extract<EngineEvent, { type: 'run.delivered' }>; onDisk: RunRecord }[] = [];
  const hooks: RunHooks = {
    prepareRun: async () => ({ delivery: { branch: 'orchestr8/b' } }),
    runFinished: async () => ({ delivery: { pullRequest: { url: 'https://example.test/pr/1', number: 1 } } }),
  };
  const engine = await Engine.open({ stateDir, cwd: tempDir('o8-cwd-'), hooks: [hooks] });
  const checks: Promise<void>[] = [];
  engine.onEvent((event) => {
    if (event.type !== 'run.delivered') return;
    // Another process reading the state folder right now must already see what the event says.
    checks.push(
      ReadOnlyEngine.open(stateDir).then(async (reader) => {
        try {
          heard.push({ event, onDisk: (await reader.status(event.run.id)).run });
        } finally {
          await reader.close();
        }
      }),
    );
  });
  try {
    const { runId } = await engine.launch({ workflow: workflow(ONE_TASK) });
    await runFinished(engine, runId);
    await engine.whenFinalized(runId);
    await Promise.all(checks);
    heard.sort((a, b) => Number(a.event.run.finalized ?? false) - Number(b.event.run.finalized ?? false));
    assert.equal(heard.length, 2, 'prepared, then finalized');
    assert.equal(heard[0]!.event.run.delivery?.branch, 'orchestr8/b');
    assert.equal(heard[0]!.onDisk.delivery?.branch, 'orchestr8/b');
    const last = heard[1]!;
    assert.equal(last.event.run.finalized, true);
    assert.deepEqual(last.event.run.delivery, { branch: 'orchestr8/b', pullRequest: { url: 'https://example.test/pr/1', number: 1 } });
    assert.deepEqual(last.onDisk.delivery, last.event.run.delivery, 'durable before it was announced');
  } finally {
    await engine.close();
  }
});
