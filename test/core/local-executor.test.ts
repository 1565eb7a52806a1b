import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LocalExecutor } from '../../src/core/runners/local-executor.ts';
import { ShellRunner } from '../../src/core/runners/shell-runner.ts';
import { TaskError } from '../../src/core/runners/task-runner.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { tempDir } from '../support/temp-dir.ts';

// An attempt whose engine shut down while its start was being written gets an already
// aborted signal. Before, the shell ran anyway (its abort listener was added too late),
// outlived the shutdown grace, and the task was left `running` on disk: the next owner
// counted a clean shutdown as a stall.
test('an attempt aborted before it starts runs nothing and settles at once with the abort reason', async () => {
  const cwd = tempDir('o8-cwd-');
  const store = new InMemoryTaskStore(cwd, { kind: 'run', run: 'touch ran; sleep 30' });
  const controller = new AbortController();
  controller.abort('shutdown');
  // The shell runner, counting its calls: the executor decides before it settles whether to
  // hand the attempt over, so no call by then means no command, without waiting to see one.
  const shell = new ShellRunner();
  let handedOver = 0;
  const executor = new LocalExecutor([{ kind: shell.kind, execute: (ctx) => (handedOver++, shell.execute(ctx)) }], 2);
  const started = Date.now();
  await assert.rejects(executor.execute(store.attempt(controller.signal)), (error: unknown) => error instanceof TaskError && error.message === 'shutdown');
  assert.ok(Date.now() - started < 2000, 'settled at once, not after the command');
  assert.equal(handedOver, 0, 'the command was never handed to the shell');
  assert.equal(fs.existsSync(path.join(cwd, 'ran')), false, 'the command never ran');
});

test('the shell runner stops a command whose signal was aborted before it was spawned', async () => {
  const cwd = tempDir('o8-cwd-');
  const store = new InMemoryTaskStore(cwd, { kind: 'run', run: 'sleep 30' });
  const controller = new AbortController();
  controller.abort('cancelled');
  const started = Date.now();
  await assert.rejects(new ShellRunner().execute(store.attempt(controller.signal)), /cancelled/);
  assert.ok(Date.now() - started < 5000, `stopped, not run to its end (${Date.now() - started} ms)`);
});
