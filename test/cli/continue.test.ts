import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeAnthropicServer } from '../../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { textReply, toolReply } from '../../src/devtools/fake-anthropic/scripted-response.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8 } from './cli-process.ts';
import { until } from '../support/until.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/continue.test.ts ${skip} ***\n`);

describe('orchestr8 continue TASK_ID --prompt TEXT', { skip }, () => {
  it('continues a finished agent task’s conversation in a new attempt; refusals have the README’s exit codes', { timeout: 120_000 }, async () => {
    const server = await FakeAnthropicServer.start();
    after(() => server.close());
    const project = tempDir('o8-cli-continue-');
    fs.mkdirSync(path.join(project, '.orchestr8/agents'), { recursive: true });
    fs.writeFileSync(
      path.join(project, '.orchestr8/agents/scribe.md'),
      '---\nname: scribe\ndescription: writes notes\ntools: Read, Write\n---\nYou write notes.\n',
    );
    const env = { ANTHROPIC_API_KEY: server.apiKey, ANTHROPIC_BASE_URL: server.url };
    const o8 = (...args: string[]) => orchestr8(project, ['--state', path.join(project, 'state'), ...args], env);
    // Until the background owner has taken the launch from its inbox, status answers not found.
    const status = async (runId: string) =>
      JSON.parse((await o8('--json', 'status', runId)).stdout) as {
        run?: { state: string };
        tasks: Array<{ state: string; attempt: number; followUps?: string[] }>;
        link: string;
      };

    server.enqueue(toolReply([{ name: 'write_file', input: { path: 'NOTES.md', content: '# Notes\n' } }]), textReply('Wrote NOTES.md.'));
    const launched = await o8('--json', 'launch', '--agent', 'scribe', '--prompt', 'Write notes');
    assert.equal(launched.code, 0, launched.stderr);
    const { runId, taskIds } = JSON.parse(launched.stdout) as { runId: string; taskIds: string[] };
    await until('the first attempt to complete', async () => (await status(runId)).run?.state === 'completed', 60_000);

    server.enqueue(toolReply([{ name: 'write_file', input: { path: 'TODO.md', content: '- more\n' } }]), textReply('Added TODO.md.'));
    const continued = await o8('continue', taskIds[0]!, '--prompt', 'Also add a TODO list');
    assert.equal(continued.code, 0, continued.stderr);
    assert.match(continued.stdout, new RegExp(`continuing ${taskIds[0]!.replace('.', '\\.')}`));
    await until(
      'the follow-up to complete',
      async () => {
        const s = await status(runId);
        return s.run?.state === 'completed' && s.tasks[0]!.attempt === 2;
      },
      60_000,
    );
    const after2 = await status(runId);
    assert.deepEqual(after2.tasks[0]!.followUps, ['Also add a TODO list']);
    assert.equal(JSON.parse((await o8('--json', 'result', taskIds[0]!)).stdout).result.output, 'Added TODO.md.');
    assert.equal(fs.readFileSync(path.join(project, 'TODO.md'), 'utf8'), '- more\n');
    assert.equal(server.requests.length, 4);
    assert.match(JSON.stringify((server.requests[2]!.body as { messages: unknown[] }).messages.at(-1)), /Also add a TODO list/);
    assert.equal(after2.link, `vscode://orchestr8.orchestr8/run/${runId}`, 'status --json gives the deep link');
    assert.match((await o8('status', runId)).stdout, new RegExp(`open in VS Code: vscode://orchestr8\\.orchestr8/run/${runId}`));

    // Refusals: no prompt (2, usage), a task that is no agent's (2, conflict), an unknown task (4).
    const noPrompt = await o8('--json', 'continue', taskIds[0]!);
    assert.equal(noPrompt.code, 2, noPrompt.stdout);
    assert.equal(JSON.parse(noPrompt.stdout).error.code, 'usage');
    const shellLaunch = await o8('--json', 'launch', '--run', 'echo hi');
    const shellTask = (JSON.parse(shellLaunch.stdout) as { taskIds: string[] }).taskIds[0]!;
    await until('the shell task to finish', async () => (await status(shellTask.split('.')[0]!)).run?.state === 'completed', 60_000);
    const notAgent = await o8('--json', 'continue', shellTask, '--prompt', 'more');
    assert.equal(notAgent.code, 2, notAgent.stdout);
    assert.equal(JSON.parse(notAgent.stdout).error.code, 'conflict');
    assert.match(JSON.parse(notAgent.stdout).error.message, /only an agent task continues a conversation/);
    const unknown = await o8('continue', `${runId}.nope`, '--prompt', 'more');
    assert.equal(unknown.code, 4, unknown.stderr);
  });
});
