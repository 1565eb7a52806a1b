import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ToolEnv } from '../../src/core/agents/tools/agent-tool.ts';
import { editFileTool, listFilesTool, readFileTool, searchTool, writeFileTool } from '../../src/core/agents/tools/file-tools.ts';
import { runCommandTool } from '../../src/core/agents/tools/run-command-tool.ts';
import { WorkspaceGuard } from '../../src/core/agents/tools/workspace-guard.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { liveInGroup } from '../support/proc.ts';
import { until } from '../support/until.ts';

let base: string;
let root: string;
let outside: string;
let store: InMemoryTaskStore;
let env: ToolEnv;

before(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'o8-tools-')));
  root = join(base, 'work');
  outside = join(base, 'secret');
  await mkdir(join(root, 'src/deep'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'key.txt'), 'TOP SECRET');
  await writeFile(join(root, 'src/app.ts'), 'export const a = 1;\nexport const b = 2;\n');
  await writeFile(join(root, 'src/deep/util.js'), 'function helper() { return "needle"; }\n');
  await writeFile(join(root, 'README.md'), '# demo\nneedle here\n');
  await symlink(outside, join(root, 'escape-dir'));
  await symlink(join(outside, 'key.txt'), join(root, 'escape-file'));
  await symlink(join(outside, 'missing.txt'), join(root, 'dangling'));
  store = new InMemoryTaskStore(root, { kind: 'agent', agent: 'x', prompt: 'y' });
  env = { ctx: store.attempt(), guard: await WorkspaceGuard.open(root), toolUseId: 'toolu_1' };
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

test('read, write (with new folders), edit exact unique text', async () => {
  assert.match(await writeFileTool.run({ path: 'new/dir/x.txt', content: 'hello world' }, env), /wrote new\/dir\/x\.txt/);
  assert.equal(await readFileTool.run({ path: 'new/dir/x.txt' }, env), 'hello world');
  await editFileTool.run({ path: 'new/dir/x.txt', old_string: 'world', new_string: 'there' }, env);
  assert.equal(await readFile(join(root, 'new/dir/x.txt'), 'utf8'), 'hello there');
  await assert.rejects(editFileTool.run({ path: 'src/app.ts', old_string: 'export const', new_string: 'x' }, env), /more than once/);
  await assert.rejects(editFileTool.run({ path: 'src/app.ts', old_string: 'nope', new_string: 'x' }, env), /not found/);
  assert.equal(await readFileTool.run({ path: 'src/app.ts', offset: 2, limit: 1 }, env), 'export const b = 2;');
  await assert.rejects(writeFileTool.run({ path: 'x' }, env), /invalid input for write_file: content/);
});

test('refuses ../, absolute paths outside, and symlinks that lead out', async () => {
  const attempts: Array<() => Promise<string>> = [
    () => readFileTool.run({ path: '../secret/key.txt' }, env),
    () => readFileTool.run({ path: 'src/../../secret/key.txt' }, env),
    () => readFileTool.run({ path: join(outside, 'key.txt') }, env),
    () => readFileTool.run({ path: '/etc/passwd' }, env),
    () => readFileTool.run({ path: 'escape-file' }, env),
    () => readFileTool.run({ path: 'escape-dir/key.txt' }, env),
    () => writeFileTool.run({ path: 'escape-dir/planted.txt', content: 'x' }, env),
    () => writeFileTool.run({ path: 'dangling', content: 'x' }, env),
    () => writeFileTool.run({ path: '../planted.txt', content: 'x' }, env),
    () => editFileTool.run({ path: 'escape-file', old_string: 'TOP', new_string: 'NOT' }, env),
    () => listFilesTool.run({ path: '..' }, env),
    () => searchTool.run({ pattern: 'SECRET', path: 'escape-dir' }, env),
  ];
  for (const [i, attempt] of attempts.entries()) await assert.rejects(attempt(), /refused/, `attempt ${i} was not refused`);
  assert.equal(await readFile(join(outside, 'key.txt'), 'utf8'), 'TOP SECRET');
  await assert.rejects(readFile(join(outside, 'planted.txt')), /ENOENT/);
  await assert.rejects(readFile(join(base, 'planted.txt')), /ENOENT/);
  await assert.rejects(readFile(join(outside, 'missing.txt')), /ENOENT/);
  // Inside the folder, `..` and absolute paths are fine.
  assert.match(await readFileTool.run({ path: 'src/../README.md' }, env), /demo/);
  assert.match(await readFileTool.run({ path: join(root, 'README.md') }, env), /demo/);
});

test('list_files globs in JS and does not descend into symlinked folders', async () => {
  const all = (await listFilesTool.run({ pattern: '**/*' }, env)).split('\n');
  assert.ok(all.includes('src/app.ts') && all.includes('src/deep/util.js') && all.includes('README.md'));
  assert.ok(!all.some((f) => f.includes('key.txt')), 'walked through a symlink');
  assert.deepEqual((await listFilesTool.run({ pattern: '**/*.{ts,js}' }, env)).split('\n'), ['src/app.ts', 'src/deep/util.js']);
  assert.equal(await listFilesTool.run({ pattern: '*.md' }, env), 'README.md');
});

test('search: regex over files, path:line: text', async () => {
  const out = await searchTool.run({ pattern: 'need+le' }, env);
  assert.deepEqual(out.split('\n').sort(), ['README.md:2: needle here', 'src/deep/util.js:1: function helper() { return "needle"; }']);
  assert.equal(
    await searchTool.run({ pattern: 'NEEDLE', ignore_case: true, glob: '**/*.js' }, env),
    'src/deep/util.js:1: function helper() { return "needle"; }',
  );
  await assert.rejects(searchTool.run({ pattern: '(' }, env), /invalid regular expression/);
});

test('run_command runs in the folder, caps output, hides the API key', async () => {
  process.env.ANTHROPIC_API_KEY = 'sk-should-not-leak';
  try {
    const out = await runCommandTool.run({ command: 'pwd; echo "key=[$ANTHROPIC_API_KEY]"; ls src' }, env);
    assert.match(out, /^exit code 0\n/);
    assert.ok(out.includes(root));
    assert.ok(out.includes('key=[]'));
    assert.ok(out.includes('app.ts'));
  } finally {
    delete process.env.ANTHROPIC_API_KEY;
  }
  const big = await runCommandTool.run({ command: 'head -c 300000 /dev/zero | tr "\\0" a' }, env);
  assert.ok(big.length < 70_000, `output not capped: ${big.length}`);
  assert.match(big, /characters omitted/);
  assert.match(await runCommandTool.run({ command: 'exit 3' }, env), /^exit code 3/);
});

test('run_command refuses commands that leave the folder', async () => {
  const refused = [
    'cd .. && cat secret/key.txt',
    'cd ../secret; ls',
    'cd',
    'cd /',
    'cd ~',
    'cat ~/.ssh/id_rsa',
    `cat ${join(outside, 'key.txt')}`,
    'cat ../secret/key.txt',
    'ls src/../../secret',
    'cp README.md --target-directory=../secret',
    'echo $HOME',
    'cat /etc/passwd',
    'pushd ..',
  ];
  for (const command of refused) await assert.rejects(runCommandTool.run({ command }, env), /refused/, `not refused: ${command}`);
  // Allowed: paths inside, system binaries, /dev/null, URLs.
  assert.match(await runCommandTool.run({ command: `cd src && /bin/ls ${join(root, 'src')} > /dev/null; echo ok https://example.com/a/../b` }, env), /ok/);
});

test('run_command kills the whole process group on timeout and on cancel', async () => {
  const marker = join(root, 'grandchild-alive');
  const earlier = store.pids.length; // pids of the commands other tests ran
  const started = Date.now();
  const out = await runCommandTool.run({ command: `(sleep 2; touch grandchild-alive) & sleep 30`, timeout_ms: 300 }, env);
  assert.match(out, /timed out after 300 ms; killed/);
  assert.ok(Date.now() - started < 5000);

  const controller = new AbortController();
  const cancelEnv: ToolEnv = { ...env, ctx: store.attempt(controller.signal) };
  const reported = store.pids.length;
  const running = runCommandTool.run({ command: '(sleep 2; touch grandchild-alive) & sleep 30' }, cancelEnv);
  await until('the cancellable command to start', () => store.pids.length > reported, 10_000);
  controller.abort('cancelled');
  await assert.rejects(running, /cancelled/);
  const groups = store.pids.slice(earlier);
  assert.ok(groups.length >= 2, 'pids were not reported through ctx.setPid');
  // Each command is its own process group (led by the pid it reported): once no live process is
  // left in either group, nothing can touch the marker any more, so its absence is final.
  await until(
    'both commands’ process groups to be empty',
    () => groups.every((pgid) => liveInGroup(pgid).length === 0),
    10_000,
    () => `still alive: ${groups.flatMap(liveInGroup).join(', ')}`,
  );
  await assert.rejects(readFile(marker), /ENOENT/, 'a background child of the command survived');
});
