import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCommandTool } from '../../src/core/agents/tools/run-command-tool.ts';
import { WorkspaceGuard } from '../../src/core/agents/tools/workspace-guard.ts';
import type { TaskAction } from '../../src/core/model/workflow.ts';
import { ShellRunner } from '../../src/core/runners/shell-runner.ts';
import { TaskError } from '../../src/core/runners/task-runner.ts';
import { ShellSandbox } from '../../src/core/sandbox/shell-sandbox.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';

/** Where no sandbox can run (no bubblewrap, Windows): what each kind of command does. Needs no bubblewrap. */

let root: string;
before(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'o8-nosandbox-')));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A sandbox whose runtime cannot load, counting the attempts. */
function missingSandbox(): { sandbox: ShellSandbox; loads: () => number } {
  let loads = 0;
  const sandbox = new ShellSandbox({}, async () => {
    loads++;
    throw new Error('Cannot find package @anthropic-ai/sandbox-runtime');
  });
  return { sandbox, loads: () => loads };
}

function runTask(action: TaskAction, runner: ShellRunner) {
  const store = new InMemoryTaskStore(root, action);
  return { store, result: runner.execute(store.attempt()) };
}

test('the runtime is not loaded for commands that do not ask for the sandbox', async () => {
  const { sandbox, loads } = missingSandbox();
  const { store, result } = runTask({ kind: 'run', run: 'echo plain' }, new ShellRunner({ sandbox }));
  assert.equal((await result).output, 'plain');
  assert.equal(loads(), 0);
  assert.deepEqual(store.sandboxed, [false]);
});

test('a run task with sandbox: true fails, not retried, without running, where there is no sandbox', async () => {
  const { sandbox, loads } = missingSandbox();
  const { store, result } = runTask({ kind: 'run', run: 'touch ran.txt', sandbox: true }, new ShellRunner({ sandbox }));
  await assert.rejects(result, (error: unknown) => {
    assert.ok(error instanceof TaskError);
    assert.equal(error.retryable, false);
    assert.match(error.message, /runs only in the sandbox \(sandbox: true\), and there is none here: .*did not load/);
    return true;
  });
  assert.equal(existsSync(join(root, 'ran.txt')), false);
  assert.equal(loads(), 1);
  assert.deepEqual(store.sandboxed, []);
});

test('the setting sandboxes run tasks that say nothing; a task with sandbox: false opts out', async () => {
  const { sandbox } = missingSandbox();
  const runner = new ShellRunner({ sandbox, sandboxRunTasks: true });
  await assert.rejects(runTask({ kind: 'run', run: 'true' }, runner).result, /runs only in the sandbox \(the setting to sandbox run tasks\)/);
  assert.equal((await runTask({ kind: 'run', run: 'echo out', sandbox: false }, runner).result).output, 'out');
});

test('an agent shell tool without a sandbox runs unconfined and says so once per attempt', async () => {
  const { sandbox, loads } = missingSandbox();
  const store = new InMemoryTaskStore(root, { kind: 'agent', agent: 'a', prompt: 'p' });
  const env = { ctx: store.attempt(), guard: await WorkspaceGuard.open(root), toolUseId: 'toolu_1', sandbox };
  assert.match(await runCommandTool.run({ command: 'echo one' }, env), /exit code 0\none/);
  assert.match(await runCommandTool.run({ command: 'echo two' }, env), /exit code 0\ntwo/);
  assert.equal(store.log.match(/UNCONFINED/g)?.length, 1, store.log);
  assert.match(store.log, /commands run UNCONFINED \(only the text checks apply\): @anthropic-ai\/sandbox-runtime did not load/);
  assert.equal(store.logger.lines.filter((l) => l.startsWith('warn:') && l.includes('UNCONFINED')).length, 1);
  assert.deepEqual(store.sandboxed, [false]);
  assert.equal(loads(), 1, 'probed once, not per command');
  // The text checks still stand in front.
  await assert.rejects(runCommandTool.run({ command: 'cat ~/.ssh/id_rsa' }, env), /refused/);
});
