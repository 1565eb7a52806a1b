import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/launch-budget.test.ts ${skip} ***\n`);

interface StatusJson {
  run?: { state: string; budget?: unknown };
  tasks: { id: string; state: string; budget?: { usd?: number; tokens?: number }; error?: string }[];
  needsInput: { taskId: string; request: { kind: string; scope: string } }[];
}

let server: FakeAnthropicServer;
before(async () => {
  server = await FakeAnthropicServer.start();
});
after(() => server.close());

describe('orchestr8 launch --budget-usd / --budget-tokens', { skip }, () => {
  it('an agent task launched with a budget parks before the turn past it; status shows spent / budget; deny stops it', { timeout: 120_000 }, async () => {
    const project = tempDir('o8-launch-budget-');
    fs.mkdirSync(path.join(project, '.orchestr8/agents'), { recursive: true });
    fs.writeFileSync(
      path.join(project, '.orchestr8/agents/scribe.md'),
      '---\nname: scribe\ndescription: writes notes\ntools: Read, Write\n---\nYou write notes.\n',
    );
    const env = { ANTHROPIC_API_KEY: server.apiKey, ANTHROPIC_BASE_URL: server.url, ORCHESTR8_SANDBOX: 'off' };
    const o8 = (...args: string[]) => orchestr8(project, ['--state', path.join(project, 'state'), ...args], env);

    // Refused before anything is launched: a bad amount, a budget on a shell command (exit 2, usage).
    const bad = await o8('--json', 'launch', '--agent', 'scribe', '--prompt', 'p', '--budget-usd', 'lots');
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(JSON.parse(bad.stdout).error.message, /--budget-usd takes a positive number, not "lots"/);
    const onShell = await o8('--json', 'launch', '--run', 'echo hi', '--budget-tokens', '100');
    assert.equal(onShell.code, 2, onShell.stdout + onShell.stderr);
    assert.match(JSON.parse(onShell.stdout).error.message, /a budget \(--budget-usd, --budget-tokens\) applies to an agent task only/);
    assert.ok(
      !fs.existsSync(path.join(project, 'state', 'inbox')) || fs.readdirSync(path.join(project, 'state', 'inbox')).length === 0,
      'nothing was launched',
    );

    // The first turn costs 750 tokens: with that as the estimate of the next, a second turn would pass 1000.
    server.requests.length = 0;
    const usage = { input_tokens: 700, output_tokens: 50 };
    server.enqueue(toolReply([{ name: 'write_file', input: { path: 'NOTES.md', content: '# Notes\n' } }], { usage }), textReply('Wrote NOTES.md.', { usage }));
    const launched = await o8('--json', 'launch', '--agent', 'scribe', '--prompt', 'Write notes', '--budget-tokens', '1000', '--budget-usd', '2');
    assert.equal(launched.code, 0, launched.stderr);
    const { runId, taskIds } = JSON.parse(launched.stdout) as { runId: string; taskIds: string[] };

    const parked = await until(
      'the task parks at its budget',
      async () => {
        const r = await o8('--json', 'status', runId);
        const json = r.code === 0 ? (JSON.parse(r.stdout) as StatusJson) : undefined;
        return json?.needsInput.length ? json : undefined;
      },
      60_000,
      () => fs.readFileSync(path.join(project, 'state', 'serve.log'), 'utf8'),
    );
    assert.deepEqual([parked.needsInput[0]!.taskId, parked.needsInput[0]!.request.kind, parked.needsInput[0]!.request.scope], [taskIds[0], 'budget', 'task']);
    assert.deepEqual(parked.tasks[0]!.budget, { usd: 2, tokens: 1000 });
    assert.equal(server.requests.length, 1, 'the turn past the budget was not sent');
    assert.match((await o8('status', runId)).stdout, /budget \$[\d.]+ \/ \$2 · 750 \/ 1000 tokens/);

    const stopped = await o8('deny', taskIds[0]!);
    assert.equal(stopped.code, 0, stopped.stderr);
    const failed = await until(
      'the run ends',
      async () => {
        const json = JSON.parse((await o8('--json', 'status', runId)).stdout) as StatusJson;
        return json.run?.state === 'failed' ? json : undefined;
      },
      60_000,
    );
    assert.match(failed.tasks[0]!.error ?? '', /stopped at its budget/);
  });
});
