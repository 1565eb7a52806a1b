// `npm run demo:agents`: runs examples/add-feature.yaml with the example agents, offline.
// The real CLI and the real @anthropic-ai/sdk talk to the local Messages server
// (src/devtools/fake-anthropic/) through ANTHROPIC_BASE_URL; a scripted "Claude" makes the
// agents read and write real files, run the backend's tests, and record gate verdicts.
// Exits 0 only if the run did what this script says it does.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../src/core/engine/engine.ts';
import { addFeatureScripts } from '../src/devtools/fake-anthropic/add-feature-script.ts';
import { FakeAnthropicServer } from '../src/devtools/fake-anthropic/fake-anthropic-server.ts';
import { scriptedAgents } from '../src/devtools/fake-anthropic/scripted-agents.ts';

const repo = resolve(import.meta.dirname, '..');
const project = realpathSync(mkdtempSync(join(tmpdir(), 'orchestr8-add-feature-')));
mkdirSync(join(project, '.orchestr8'), { recursive: true });
cpSync(join(repo, 'examples/agents'), join(project, '.orchestr8/agents'), { recursive: true });
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify({ name: 'greeting-app', version: '1.0.0', type: 'module', scripts: { test: 'node --test' } }, null, 2),
);
writeFileSync(join(project, 'README.md'), '# greeting-app\n');
// A git repository, as a real project is: the run gets a branch, each writing task a worktree and a commit.
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Demo', '-c', 'user.email=demo@example.com', ...args], { cwd: project, encoding: 'utf8' });
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-q', '-m', 'greeting-app: empty project with the example agents');
const state = join(project, '.orchestr8/state');

const server = await FakeAnthropicServer.start({ responder: scriptedAgents(addFeatureScripts({ latencyMs: 150 })) });
console.log(`Local Messages server on ${server.url}; project in ${project}\n`);
// Not spawnSync: the server lives in this process and must keep answering while the CLI runs.
const child = spawn(
  process.execPath,
  [
    join(repo, 'dist/cli.cjs'),
    'run',
    join(repo, 'examples/add-feature.yaml'),
    '--state',
    state,
    '--concurrency',
    '8',
    '--input',
    'feature=Greet the user by name on the home page',
  ],
  { cwd: project, stdio: 'inherit', env: { ...process.env, ANTHROPIC_API_KEY: server.apiKey, ANTHROPIC_BASE_URL: server.url } },
);
const cli = { status: await new Promise<number | null>((done) => child.on('exit', (code) => done(code))) };
await server.close();

const engine = await Engine.open({ stateDir: state, cwd: project });
try {
  const { runs } = await engine.list();
  const run = runs[0]!;
  const { tasks } = await engine.status(run.id);
  const gates = await engine.gates(run.id);
  const usage = await engine.usage(run.id);
  console.log(`\nRun ${run.id}: ${run.state}`);
  for (const t of tasks)
    console.log(`  ${t.state.padEnd(9)} ${t.key.padEnd(14)} ${((await engine.result(t.id))?.output ?? t.error ?? '').split('\n')[0]!.slice(0, 90)}`);
  console.log('\nQuality gates:');
  for (const g of gates) console.log(`  ${g.gate.padEnd(14)} ${g.verdict.padEnd(5)} ${g.report?.split('\n')[0] ?? ''}`);
  console.log(
    `\nTokens: ${usage.inputTokens} in, ${usage.outputTokens} out, cache ${usage.cacheWriteTokens} written / ${usage.cacheReadTokens} read; cost $${usage.costUsd.toFixed(4)} (at claude-sonnet-5-5 prices)`,
  );
  console.log(`Model requests served: ${server.requests.length}`);
  // The agents' files are on the run's branch, in its worktree; the project's own checkout is untouched.
  const branch = run.delivery?.branch;
  const tree = run.delivery?.worktree ?? project;
  if (branch)
    console.log(`\nThe run's branch ${branch}, one commit per task that wrote files:\n\n${git('log', '--stat', '--format=%h %s', `main..${branch}`)}`);
  const files = [
    'docs/plan.md',
    'src/api/greeting.mjs',
    'src/api/greeting.test.mjs',
    'src/ui/greeting.html',
    'docs/features/greeting.md',
    'CHANGELOG.md',
    ...gates.map((g) => `reports/${g.gate}.md`),
  ];
  console.log(`Files written by the agents: ${files.filter((f) => existsSync(join(tree, f))).join(', ')}`);
  console.log(`\nExplore: node ${join(repo, 'dist/cli.cjs')} status ${run.id} --state ${state}`);

  const problems: string[] = [];
  if (cli.status !== 0) problems.push(`the CLI exited ${cli.status}`);
  if (run.state !== 'completed') problems.push(`run is ${run.state}`);
  if (gates.length !== 5) problems.push(`${gates.length} gate verdicts, expected 5`);
  if (gates.find((g) => g.gate === 'performance')?.verdict !== 'warn') problems.push('performance gate did not warn');
  for (const f of files) if (!existsSync(join(tree, f))) problems.push(`${f} missing`);
  if (!branch) problems.push('the run has no branch');
  else {
    const subjects = git('log', '--no-merges', '--format=%s', `main..${branch}`).split('\n').filter(Boolean);
    const keys = new Set(subjects.map((s) => s.split(':')[0]));
    for (const k of ['analysis', 'backend', 'frontend', 'documentation', ...gates.map((g) => g.gate)])
      if (!keys.has(k)) problems.push(`no commit of ${k} on ${branch}`);
  }
  if (!/Tests: passing/.test((await engine.result(`${run.id}.backend`))?.output ?? '')) problems.push('backend tests did not pass');
  if (!existsSync(join(tree, 'CHANGELOG.md')) || !readFileSync(join(tree, 'CHANGELOG.md'), 'utf8').includes('greeting')) problems.push('no changelog entry');
  if (problems.length) {
    console.error(`\ndemo did not behave as designed: ${problems.join('; ')}`);
    process.exitCode = 1;
  } else console.log('\nDemo behaved as designed.');
} finally {
  await engine.close();
}
