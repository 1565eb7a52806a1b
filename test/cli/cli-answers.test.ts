import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { cliMissingReason, orchestr8 } from './cli-process.ts';

const skip = cliMissingReason();
if (skip) console.warn(`\n*** test/cli/cli-answers.test.ts ${skip} ***\n`);

const REPO = path.resolve(import.meta.dirname, '../..');

describe('the CLI answers truthfully: version, exit codes, JSON errors', { skip }, () => {
  const project = tempDir('o8-cli-answers-');
  const o8 = (...args: string[]) => orchestr8(project, ['--state', path.join(project, 'state'), ...args]);

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await o8(flag);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  });

  it('a missing workflow file is a usage error (2) naming the file, for run and validate alike', async () => {
    const missing = path.join(project, 'nope.yaml');
    for (const args of [
      ['run', missing],
      ['validate', missing],
    ]) {
      const r = await o8(...args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr + r.stdout, new RegExp(`${missing}: cannot read workflow file: no such file`));
      assert.doesNotMatch(r.stderr + r.stdout, /ENOENT/);
    }
  });

  it('with --json, errors are JSON on stdout: { error: { code, message } } with the same exit codes', async () => {
    const notFound = await o8('--json', 'status', 'zzzz-no-such-run');
    assert.equal(notFound.code, 4, notFound.stderr);
    assert.deepEqual(Object.keys(JSON.parse(notFound.stdout).error), ['code', 'message']);
    assert.equal(JSON.parse(notFound.stdout).error.code, 'not_found');

    const missing = await o8('--json', 'run', path.join(project, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.equal(JSON.parse(missing.stdout).error.code, 'invalid_workflow');

    const badFlag = await o8('--json', 'status', '--no-such-flag');
    assert.equal(badFlag.code, 2);
    assert.equal(JSON.parse(badFlag.stdout).error.code, 'usage');
    assert.match(JSON.parse(badFlag.stdout).error.message, /no-such-flag/);
  });

  it("the README's example is examples/quality-gates.yaml; validate checks its agent names against the project's agent files", async () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const example = fs.readFileSync(path.join(REPO, 'examples/quality-gates.yaml'), 'utf8');
    assert.ok(readme.includes(example.trimEnd()), 'the README shows examples/quality-gates.yaml as it is');
    assert.match(readme, /orchestr8 run examples\/quality-gates\.yaml/);

    const app = tempDir('o8-cli-validate-');
    fs.mkdirSync(path.join(app, '.git'));
    fs.writeFileSync(path.join(app, 'gates.yaml'), example);
    const without = await orchestr8(app, ['validate', 'gates.yaml']);
    assert.equal(without.code, 2, without.stdout);
    assert.match(without.stdout, /gates\.yaml:8:3: task 'review': unknown agent 'code-reviewer' \(no agent files in .orchestr8\/agents, .claude\/agents/);

    fs.cpSync(path.join(REPO, 'examples/agents'), path.join(app, '.claude/agents'), { recursive: true });
    const withAgents = await orchestr8(app, ['validate', 'gates.yaml']);
    assert.equal(withAgents.code, 0, withAgents.stdout + withAgents.stderr);

    fs.writeFileSync(path.join(app, 'typo.yaml'), example.replace('agent: code-reviewer', 'agent: code-reviewr'));
    const typo = await orchestr8(app, ['validate', 'typo.yaml']);
    assert.equal(typo.code, 2);
    assert.match(typo.stdout, /unknown agent 'code-reviewr'; did you mean 'code-reviewer'\?/);
  });
});

describe('refusals', { skip }, () => {
  it('signal on a task that is not waiting is a usage error (2), `conflict` with --json', { timeout: 90_000 }, async () => {
    const project = tempDir('o8-cli-refuse-');
    const state = path.join(project, 'state');
    const o8 = (...args: string[]) => orchestr8(project, ['--state', state, ...args]);
    fs.writeFileSync(path.join(project, 'w.yaml'), 'name: w\ntasks:\n  a: { run: echo a }\n');
    const r = await o8('--json', 'run', 'w.yaml');
    assert.equal(r.code, 0, r.stderr);
    const ids = [JSON.parse(r.stdout).run.id as string];
    const done = await o8('signal', `${ids[0]}.a`);
    assert.equal(done.code, 2, done.stderr);
    assert.match(done.stderr, /not waiting|is completed/);
    const json = await o8('--json', 'signal', `${ids[0]}.a`);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.code, 'conflict');
  });
});
