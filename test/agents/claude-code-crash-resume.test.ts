import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentRunner } from '../../src/core/agents/agent-runner.ts';
import { Engine } from '../../src/core/engine/engine.ts';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { allToolResults, scriptedAgents } from '../../src/devtools/fake-anthropic/scripted-agents.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { makeClaudeCodeProject } from '../support/claude-code-project.ts';
import { runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const OWNER = fileURLToPath(new URL('./fixtures/agent-engine-owner.ts', import.meta.url));

function owner(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', OWNER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, exited };
}

const PROMPT = 'You are the careful note writer.';

test('SIGKILL of the engine mid-run: the next owner resumes the same Claude Code session, and the earlier turns are not asked again', async () => {
  let stalled!: () => void;
  const secondTurnStalled = new Promise<void>((resolve) => (stalled = resolve));
  let secondTurns = 0;
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      [PROMPT]: (_turn, request) => {
        const results = allToolResults(request);
        if (!results.length)
          return toolReply([{ name: 'Write', input: { file_path: 'notes/1.txt', content: 'one' } }], { usage: { input_tokens: 500, output_tokens: 30 } });
        // The first time the second turn is asked for, hang mid-stream: the test kills the owner now.
        if (++secondTurns === 1) {
          setImmediate(stalled);
          return { kind: 'stall', text: 'Almost done…' };
        }
        return textReply('wrote the note', { usage: { input_tokens: 900, output_tokens: 10 } });
      },
    }),
  });
  after(() => server.close());
  const project = makeClaudeCodeProject({ writer: { frontmatter: 'runtime: claude-code\ntools: Read, Write\n', prompt: PROMPT } });
  const stateDir = tempDir('o8-claude-code-crash-');
  const env = project.env(server);

  const first = owner([stateDir, project.root, 'launch', 'writer', 'write the note'], env);
  await Promise.race([secondTurnStalled, first.exited.then((code) => assert.fail(`owner exited early (${code}): ${first.output()}`))]);
  const { taskIds } = JSON.parse(first.output().split('\n')[0]!) as { taskIds: string[] };
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(server.requests.length, 2);
  const sessionOf = (i: number) => server.requests[i]!.headers['x-claude-code-session-id'];
  const session = sessionOf(0);

  const second = owner([stateDir, project.root], env);
  assert.equal(await second.exited, 0, second.output());

  // The first turn was asked once; after the restart the same session continues with its turns in the request.
  const firstTurns = server.requests.filter((r) => allToolResults(r).length === 0);
  assert.equal(firstTurns.length, 1, 'the first turn was asked again');
  assert.equal(server.requests.length, 3);
  const resumed = server.requests[2]!;
  assert.equal(allToolResults(resumed).length, 1);
  assert.match(JSON.stringify(resumed.body.messages), /"name":"Write".*notes\/1\.txt/);
  assert.match(JSON.stringify(resumed.body.messages), /previous run of this task was interrupted/);
  assert.equal(readFileSync(join(project.root, 'notes/1.txt'), 'utf8'), 'one');

  const engine = await Engine.open({ stateDir, cwd: project.root });
  after(() => engine.close());
  const task = await engine.task(taskIds[0]!);
  assert.equal(task.state, 'completed');
  assert.equal(task.attempt, 1, 'the crash cost no attempt');
  assert.equal(task.interruptions, 1);
  assert.equal((await engine.result(task.id))?.output, 'wrote the note');
  const log = await engine.log(task.id);
  const sessionId = /Claude Code: resuming session ([0-9a-f-]{36}) after turn 1/.exec(log)?.[1];
  assert.ok(sessionId, log);
  if (session !== undefined) {
    assert.equal(session, sessionId);
    assert.equal(sessionOf(2), sessionId);
  }
  // Claude Code's transcript of that one session, in its (isolated) config folder.
  const transcripts = readdirSync(join(project.configDir, 'projects'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jsonl'));
  assert.deepEqual(
    transcripts.map((f) => f.split('/').at(-1)),
    [`${sessionId}.jsonl`],
  );
  // Usage: the resumed run's result, and the killed run's first turn, which no result reported
  // (counted from its stream and checkpointed); the stalled request never finished, so it has none.
  const rows = await engine.tokenUsage(task.id);
  assert.deepEqual(
    rows.map((r) => [r.turn, r.model, r.inputTokens, r.outputTokens]).sort(),
    [
      [1, 'claude-sonnet-5-5', 900, 10],
      [1000, 'claude-sonnet-5-5', 500, 30],
    ].sort(),
  );
  const totals = await engine.usage(task.id);
  assert.equal(totals.inputTokens, 1400);
  assert.equal(totals.outputTokens, 40);
  assert.ok(totals.costUsd > 0);
  assert.match(log, /usage of the interrupted run recorded from its stream: claude-sonnet-5-5 500 in, 30 out/);
});

const ASKER = 'You are the asking note writer.';

test('SIGKILL of the engine while a claude-code task is parked on a permission request: the next owner still has the question, and its answer resumes the session', async () => {
  const server = await FakeAnthropicServer.start({
    responder: scriptedAgents({
      [ASKER]: (_turn, request) => {
        const results = allToolResults(request);
        const told = JSON.stringify(request.body.messages.filter((m) => m.role === 'user').at(-1));
        if (!results.length || told.includes('The user allowed'))
          return toolReply([{ name: 'Bash', input: { command: 'touch asked.txt && echo touched', description: 'touch' } }]);
        return textReply(`bash said: ${results.at(-1)}`);
      },
    }),
  });
  after(() => server.close());
  const project = makeClaudeCodeProject({ writer: { frontmatter: 'runtime: claude-code\ntools: Read, Bash\n', prompt: ASKER } });
  const stateDir = tempDir('o8-claude-code-parked-crash-');
  const env = project.env(server);

  const first = owner([stateDir, project.root, 'launch', 'writer', 'touch the file'], env);
  const launched = await new Promise<{ runId: string; taskIds: string[] }>((resolve, reject) => {
    first.child.stdout!.on('data', () => {
      const line = first.output().split('\n')[0]!;
      if (first.output().includes('\n')) resolve(JSON.parse(line) as { runId: string; taskIds: string[] });
    });
    first.exited.then((code) => reject(new Error(`owner exited early (${code}): ${first.output()}`)));
  });
  const taskId = launched.taskIds[0]!;
  // The engine notes the question in the task's log once the task is parked durably.
  const logFile = join(stateDir, 'logs', launched.runId, `${taskId.slice(taskId.indexOf('.') + 1)}.log`);
  const end = Date.now() + 60_000;
  while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('--- needs input: permission to run Bash(touch asked.txt && echo touched)'))) {
    if (Date.now() > end) assert.fail(`the task never parked: ${first.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal(server.requests.length, 1);
  assert.ok(!existsSync(join(project.root, 'asked.txt')));

  const engine = await Engine.open({ stateDir, cwd: project.root, runners: [new AgentRunner({ maxRetries: 0, env, sandbox: false })] });
  after(() => engine.close());
  const parked = await engine.task(taskId);
  assert.equal(parked.state, 'needs-input');
  assert.equal(parked.request?.kind === 'permission' && parked.request.call, 'Bash(touch asked.txt && echo touched)');
  const finished = runFinished(engine, launched.runId, 60_000);
  await engine.answer(taskId, { decision: 'allow' });
  assert.equal((await finished).state, 'completed');
  assert.equal((await engine.result(taskId))?.output, 'bash said: touched');
  assert.ok(existsSync(join(project.root, 'asked.txt')));
  assert.equal(server.requests.length, 3, 'the first turn was not asked again');
  const log = await engine.log(taskId);
  assert.match(log, /resuming session [0-9a-f-]{36} after turn 1/);
});
