import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8, startOrchestr8, until } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/wait-and-tolerated.test.ts ${skip} ***\n`);

const FLOW = `name: ask
inputs:
  who: { default: team }
tasks:
  build: { run: echo v1.2 }
  approve: { wait: "Ship \${tasks.build.result} to \${inputs.who}?", needs: build }
  first: { wait: "Go ahead?" }
  tolerated: { run: exit 1, continue_on_error: true }
  after: { run: echo ok, needs: tolerated }
`;

describe('wait tasks say what they ask and how to answer; tolerated failures say why dependents ran', { skip }, () => {
  it('in live progress, status text and status --json', { timeout: 120_000 }, async () => {
    const project = tempDir('o8-wait-');
    const state = path.join(project, 'state');
    fs.writeFileSync(path.join(project, 'ask.yaml'), FLOW);
    const o8 = (...args: string[]) => orchestr8(project, ['--state', state, ...args]);
    const owner = startOrchestr8(project, ['--state', state, 'run', 'ask.yaml']);
    try {
      const progress = await until(
        'both questions in the progress',
        () => {
          const out = owner.output().stdout;
          return /\? Ship v1\.2 to team\?/.test(out) && /\? Go ahead\?/.test(out) ? out : undefined;
        },
        60_000,
        () => owner.output().stdout + owner.output().stderr,
      );
      const runId = /run ([0-9a-f]{12})/.exec(progress)![1]!;
      assert.match(progress, new RegExp(`answer: orchestr8 signal ${runId}\\.approve \\[PAYLOAD\\]`));
      assert.match(progress, new RegExp(`answer: orchestr8 signal ${runId}\\.first \\[PAYLOAD\\]`));

      const text = await o8('status', runId);
      assert.match(text.stdout, /approve\s+waiting[\s\S]*\? Ship v1\.2 to team\?\n\s+answer: orchestr8 signal \S+\.approve \[PAYLOAD\]/);
      assert.match(text.stdout, /tolerated\s+failed.*\(continue_on_error: dependents go on\)/);
      const json = JSON.parse((await o8('--json', 'status', runId)).stdout) as {
        waiting: { taskId: string; question: string; signal: string }[];
        usage: { costUsd: number };
        tasks: { key: string; usage: { inputTokens: number; costUsd: number } }[];
      };
      assert.deepEqual(json.waiting.map((w) => [w.taskId, w.question]).sort(), [
        [`${runId}.approve`, 'Ship v1.2 to team?'],
        [`${runId}.first`, 'Go ahead?'],
      ]);
      assert.equal(json.waiting.find((w) => w.taskId.endsWith('.first'))!.signal, `orchestr8 signal ${runId}.first [PAYLOAD]`);
      assert.equal(typeof json.usage.costUsd, 'number');
      assert.ok(
        json.tasks.every((t) => typeof t.usage.inputTokens === 'number' && typeof t.usage.costUsd === 'number'),
        'tokens and cost per task',
      );

      assert.equal((await o8('signal', `${runId}.first`)).code, 0);
      assert.equal((await o8('signal', `${runId}.approve`)).code, 0);
      const done = await owner.exited;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /tolerated\s+failed.*\(continue_on_error: dependents go on\)/);
    } finally {
      owner.child.kill();
    }
  });
});
