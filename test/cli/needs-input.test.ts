import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, startOrchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/needs-input.test.ts ${skip} ***\n`);

const AGENT = `---
name: shell
description: runs commands
tools: Read, Bash
---
You run commands.
`;
const FLOW = `name: asks
workspace: in-place
tasks:
  work: { agent: shell, prompt: make out.txt }
`;
const HELD = `name: held
workspace: in-place
tasks:
  gate: { wait: "go?" }
  after: { run: echo after, needs: gate }
`;
const QUICK = `name: quick
workspace: in-place
tasks:
  done: { run: echo done }
`;

let server: FakeAnthropicServer;
before(async () => {
  server = await FakeAnthropicServer.start();
});
after(() => server.close());

function project(): { dir: string; o8: (...args: string[]) => ReturnType<typeof orchestr8>; env: NodeJS.ProcessEnv } {
  const dir = tempDir('o8-needs-');
  fs.mkdirSync(path.join(dir, '.orchestr8/agents'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.orchestr8/agents/shell.md'), AGENT);
  fs.writeFileSync(path.join(dir, 'asks.yaml'), FLOW);
  fs.writeFileSync(path.join(dir, 'held.yaml'), HELD);
  fs.writeFileSync(path.join(dir, 'quick.yaml'), QUICK);
  const env = { ANTHROPIC_API_KEY: server.apiKey, ANTHROPIC_BASE_URL: server.url, ORCHESTR8_SANDBOX: 'off' };
  const state = path.join(dir, 'state');
  return { dir, env, o8: (...args: string[]) => orchestr8(dir, ['--state', state, ...args], env) };
}

interface StatusJson {
  run: { id: string; state: string; pause?: { reason: string; until?: number } };
  tasks: { id: string; state: string }[];
  needsInput: { taskId: string; request: { kind: string; call: string; rule: string }; approve: string; deny: string }[];
}

describe('orchestr8 approve / deny / pause / resume', { skip }, () => {
  it('approve: a parked agent task shows its request in status (text and --json), approve resumes it; exit codes', { timeout: 120_000 }, async () => {
    const { dir, o8, env } = project();
    server.enqueue(toolReply([{ name: 'run_command', input: { command: 'echo hi > out.txt' } }]), textReply('made it'));
    const owner = startOrchestr8(dir, ['--state', path.join(dir, 'state'), 'run', 'asks.yaml'], env);
    try {
      const status = await until(
        'the task asks',
        async () => {
          const r = await o8('--json', 'status', (await o8('--json', 'status')).stdout.match(/"id": "([0-9a-f]{12})"/)?.[1] ?? 'none');
          const json = r.code === 0 ? (JSON.parse(r.stdout) as StatusJson) : undefined;
          return json?.needsInput.length ? json : undefined;
        },
        60_000,
        () => owner.output().stdout + owner.output().stderr,
      );
      const ask = status.needsInput[0]!;
      assert.equal(status.tasks[0]!.state, 'needs-input');
      assert.deepEqual([ask.request.kind, ask.request.call, ask.request.rule], ['permission', 'Bash(echo hi > out.txt)', 'Bash(echo:*)']);
      assert.equal(ask.approve, `orchestr8 approve ${ask.taskId} [--always]`);
      const text = await o8('status', status.run.id);
      assert.match(
        text.stdout,
        /work\s+needs-input[\s\S]*\? permission to run Bash\(echo hi > out\.txt\)\n\s+answer: orchestr8 approve \S+\.work \[--always\] \| orchestr8 deny/,
      );
      assert.ok(!fs.existsSync(path.join(dir, 'out.txt')), 'nothing ran before the answer');

      assert.equal((await o8('approve', `${status.run.id}.nope`)).code, 4, 'no such task');
      assert.equal((await o8('approve', ask.taskId, '--raise-usd', '-1')).code, 2, 'a bad number');
      const approved = await o8('approve', ask.taskId);
      assert.equal(approved.code, 0, approved.stderr);
      assert.equal(approved.stdout.trim(), `allowed once ${ask.taskId}: Bash(echo hi > out.txt)`);
      const done = await owner.exited;
      assert.equal(done.code, 0, done.stderr);
      // The foreground run's progress said what it asked and how to answer.
      assert.match(done.stdout, /work\s+needs-input[\s\S]*\? permission to run Bash\(echo hi > out\.txt\)\n\s+answer: orchestr8 approve/);
      assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'hi\n');
      const again = await o8('--json', 'approve', ask.taskId);
      assert.equal(again.code, 2, 'it asks nothing any more');
      assert.equal((JSON.parse(again.stdout) as { error: { code: string } }).error.code, 'conflict');
    } finally {
      owner.child.kill();
    }
  });

  it('deny --reason: the agent gets the reason as the tool result', { timeout: 120_000 }, async () => {
    const { dir, o8, env } = project();
    server.requests.length = 0;
    server.enqueue(toolReply([{ name: 'run_command', input: { command: 'rm -rf .git' } }]), textReply('ok, not deleting'));
    const owner = startOrchestr8(dir, ['--state', path.join(dir, 'state'), 'run', 'asks.yaml'], env);
    try {
      const runId = await until('the run id', () => /run ([0-9a-f]{12})/.exec(owner.output().stdout)?.[1], 30_000);
      await until('the task asks', async () => (JSON.parse((await o8('--json', 'status', runId)).stdout) as StatusJson).needsInput.length > 0, 60_000);
      const denied = await o8('--json', 'deny', `${runId}.work`, '--reason', 'never touch .git');
      assert.equal(denied.code, 0, denied.stderr);
      assert.deepEqual({ ...JSON.parse(denied.stdout), request: undefined }, { ok: true, id: `${runId}.work`, action: 'deny', request: undefined });
      assert.equal((await owner.exited).code, 0);
      const result = (server.requests[1]!.body.messages.at(-1)!.content as { content: string; is_error: boolean }[])[0]!;
      assert.equal(result.content, 'The user denied this command: never touch .git');
    } finally {
      owner.child.kill();
    }
  });

  it('ORCHESTR8_PERMISSIONS allows without asking; ORCHESTR8_BUDGET_TOKENS parks before the turn past it; approve --raise-tokens goes on; ORCHESTR8_PERMISSION_TIMEOUT denies', {
    timeout: 120_000,
  }, async () => {
    const { dir, o8, env } = project();
    server.requests.length = 0;
    const usage = { input_tokens: 700, output_tokens: 50 };
    server.enqueue(toolReply([{ name: 'run_command', input: { command: 'echo from-env > env.txt' } }], { usage }), textReply('done', { usage }));
    const settings = { ...env, ORCHESTR8_PERMISSIONS: JSON.stringify({ allow: ['Bash(echo from-env:*)'] }), ORCHESTR8_BUDGET_TOKENS: '1000' };
    const owner = startOrchestr8(dir, ['--state', path.join(dir, 'state'), 'run', 'asks.yaml'], settings);
    try {
      const runId = await until('the run id', () => /run ([0-9a-f]{12})/.exec(owner.output().stdout)?.[1], 30_000);
      const asked = await until(
        'the budget request',
        async () => {
          const json = JSON.parse((await o8('--json', 'status', runId)).stdout) as StatusJson;
          return json.needsInput[0];
        },
        60_000,
        () => owner.output().stdout + owner.output().stderr,
      );
      assert.equal(asked.request.kind, 'budget');
      assert.equal(fs.readFileSync(path.join(dir, 'env.txt'), 'utf8'), 'from-env\n', 'the allowed command ran without asking');
      assert.equal(server.requests.length, 1, 'the turn past the budget was not sent');
      assert.match((await o8('status', runId)).stdout, /budget reached|its budget of 1000 tokens is spent \(\$[\d.]+, 750 tokens\): raise the budget or stop/);
      const raised = await o8('approve', asked.taskId, '--raise-tokens', '5000');
      assert.equal(raised.code, 0, raised.stderr);
      assert.equal(raised.stdout.trim(), `raised the budget of ${asked.taskId}`);
      assert.equal((await owner.exited).code, 0);
      const task = (JSON.parse((await o8('--json', 'status', runId)).stdout) as { tasks: { budget: { tokens: number } }[] }).tasks[0]!;
      assert.deepEqual(task.budget, { tokens: 6000 });
    } finally {
      owner.child.kill();
    }

    server.enqueue(toolReply([{ name: 'run_command', input: { command: 'make deploy' } }]), textReply('nobody answered'));
    const timed = await orchestr8(dir, ['--state', path.join(dir, 'state'), 'run', 'asks.yaml'], { ...env, ORCHESTR8_PERMISSION_TIMEOUT: '1s' });
    assert.equal(timed.code, 0, timed.stderr);
    const result = (server.requests.at(-1)!.body.messages.at(-1)!.content as { content: string }[])[0]!;
    assert.equal(result.content, 'The user denied this command: no answer within 1s');
  });

  it('pause and resume a run; status --json says paused; exit codes for what does not apply', { timeout: 120_000 }, async () => {
    const { o8 } = project();
    const launched = await o8('--json', 'run', 'held.yaml', '--detach');
    assert.equal(launched.code, 0, launched.stderr);
    const runId = (JSON.parse(launched.stdout) as { runId: string }).runId;
    const paused = await o8('pause', runId);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, new RegExp(`^paused ${runId}`));
    assert.equal((await o8('pause', runId)).code, 2, 'already paused');
    assert.equal((await o8('signal', `${runId}.gate`)).code, 0);
    // A run launched after the signal, through the same owner, completes: the owner starts queued
    // tasks in order, so had the signal let `after` start, it would have started before this one.
    const later = (JSON.parse((await o8('--json', 'run', 'quick.yaml', '--detach')).stdout) as { runId: string }).runId;
    await until(
      'a later run completes',
      async () => (JSON.parse((await o8('--json', 'status', later)).stdout) as StatusJson).run.state === 'completed',
      60_000,
    );
    const json = JSON.parse((await o8('--json', 'status', runId)).stdout) as StatusJson;
    assert.equal(json.run.state, 'paused');
    assert.equal(json.run.pause?.reason, 'paused by the user');
    assert.equal(json.tasks[1]!.state, 'queued', 'nothing new starts while paused');
    assert.match((await o8('status', runId)).stdout, new RegExp(`paused: paused by the user · resume: orchestr8 resume ${runId}`));
    assert.equal((await o8('--json', 'status')).stdout.includes('"state": "paused"'), true);
    const resumed = await o8('resume', runId);
    assert.equal(resumed.code, 0, resumed.stderr);
    await until('the run completes', async () => (JSON.parse((await o8('--json', 'status', runId)).stdout) as StatusJson).run.state === 'completed', 60_000);
    assert.equal((await o8('resume', runId)).code, 2, 'not paused');
    assert.equal((await o8('pause', 'ffffffffffff')).code, 4, 'no such run');
  });
});
