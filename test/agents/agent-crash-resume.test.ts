import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/core/engine/engine.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeAgentProject } from '../support/agent-project.ts';
import { tempDir } from '../support/temp-dir.ts';

const OWNER = fileURLToPath(new URL('./fixtures/agent-engine-owner.ts', import.meta.url));

function owner(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', OWNER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out + err, exited };
}

test('SIGKILL of the engine process mid-task: a new owner resumes from the last checkpoint without repeating finished turns', async () => {
  let stalled!: () => void;
  const turn3Stalled = new Promise<void>((resolve) => (stalled = resolve));
  let turn3Seen = 0;
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      'You are the note writer.': (turn) => {
        if (turn === 1)
          return toolReply([{ name: 'write_file', input: { path: 'notes/1.txt', content: 'one' } }], { usage: { input_tokens: 100, output_tokens: 10 } });
        if (turn === 2)
          return toolReply([{ name: 'write_file', input: { path: 'notes/2.txt', content: 'two' } }], { usage: { input_tokens: 200, output_tokens: 20 } });
        // The first time turn 3 is asked for, hang mid-stream: the test kills the owner now.
        if (++turn3Seen === 1) {
          setImmediate(stalled);
          return { kind: 'stall', text: 'Almost done…' };
        }
        return textReply('wrote two notes', { usage: { input_tokens: 300, output_tokens: 30 } });
      },
    }),
  });
  after(() => server.close());
  const project = await makeAgentProject({ writer: { prompt: 'You are the note writer.' } });
  after(() => project.dispose());
  const stateDir = tempDir('o8-agent-crash-');
  const env = { ANTHROPIC_API_KEY: server.apiKey, ANTHROPIC_BASE_URL: server.url };

  const first = owner([stateDir, project.root, 'launch', 'writer', 'write the notes'], env);
  await Promise.race([turn3Stalled, first.exited.then((code) => assert.fail(`owner exited early (${code}): ${first.stdout()}`))]);
  const { runId, taskIds } = JSON.parse(first.stdout().split('\n')[0]!) as { runId: string; taskIds: string[] };
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(server.requests.length, 3);

  const second = owner([stateDir, project.root], env);
  assert.equal(await second.exited, 0, second.stdout());

  const turnSizes = server.requests.map((r) => r.body.messages.length);
  // Turn 1 (1 message) and turn 2 (3 messages) were sent once; only the interrupted turn 3 (5 messages) twice.
  assert.deepEqual(turnSizes, [1, 3, 5, 5]);
  assert.equal(await readFile(join(project.root, 'notes/1.txt'), 'utf8'), 'one');
  assert.equal(await readFile(join(project.root, 'notes/2.txt'), 'utf8'), 'two');

  const engine = await Engine.open({ stateDir, cwd: project.root });
  after(() => engine.close());
  const task = await engine.task(taskIds[0]!);
  assert.equal(task.state, 'completed');
  assert.equal(task.attempt, 1, 'the crash cost no attempt');
  assert.equal(task.interruptions, 1);
  assert.equal((await engine.result(task.id))?.output, 'wrote two notes');
  assert.equal((await engine.status(runId)).run.state, 'completed');
  // Usage: one row per paid turn, none for the stalled request; totals equal the server's figures.
  const rows = await engine.tokenUsage(task.id);
  assert.deepEqual(
    rows.map((r) => [r.turn, r.inputTokens, r.outputTokens]),
    [
      [1, 100, 10],
      [2, 200, 20],
      [3, 300, 30],
    ],
  );
  const totals = await engine.usage(task.id);
  assert.equal(totals.inputTokens, 600);
  assert.equal(totals.outputTokens, 60);
  assert.ok(Math.abs(totals.costUsd - (600 * 2 + 60 * 10) / 1e6) < 1e-12);
  assert.match(await engine.log(task.id), /resuming from checkpoint after turn 2/);
  // The API key is in the owners' environment only: never in the journal, snapshots or logs.
  const entries = await readdir(stateDir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  assert.ok(files.length > 2);
  for (const file of files) assert.ok(!(await readFile(file)).includes(server.apiKey), `API key found in ${file}`);
});
