import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { TaskContext } from '../../runners/task-runner.ts';
import { unconfined, type PreparedCommand, type ShellSandbox } from '../../sandbox/shell-sandbox.ts';
import { capText, defineTool } from './agent-tool.ts';
import { ToolRefusal, type WorkspaceGuard } from './workspace-guard.ts';

const MAX_OUTPUT_CHARS = 64_000;
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_TIMEOUT_MS = 600_000;
/** Grace between SIGTERM and SIGKILL of the command's process group. */
const KILL_GRACE_MS = 2_000;
/** Absolute paths a command may name although they are outside the folder: system tools and devices, read-only for a normal user. */
const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib64/', '/opt/', '/etc/alternatives/'];
const SYSTEM_FILES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/stdin', '/dev/zero', '/dev/urandom']);
/** Never handed to an agent's shell. */
const SECRET_ENV = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN', 'ORCHESTR8_TOKEN'];

/**
 * Static check of a shell command before it runs. This is a guard against the common
 * ways a command walks out of the folder (`cd ..`, `cd /`, `cd` to $HOME, `../x` and
 * absolute paths as arguments), not a sandbox: a shell can compute paths at run time
 * (`$(…)`, variables, interpreters like `python -c`), and nothing in plain JS can stop
 * that. Real isolation needs an OS sandbox (container, user namespace) around the run.
 */
export function checkCommand(command: string, guard: WorkspaceGuard): void {
  if (command.includes('\0')) throw new ToolRefusal('refused: NUL byte in command');
  if (/\$\{?(HOME|OLDPWD|PWD)\b/.test(command)) throw new ToolRefusal('refused: the command refers to $HOME/$OLDPWD/$PWD, which lead outside the task folder');
  // Split into words at whitespace and shell operators; quotes are stripped, which is enough to see paths.
  const words = command
    .split(/[\s;&|()<>`]+/)
    .map((w) => w.replace(/^['"]+|['"]+$/g, ''))
    .filter(Boolean);
  for (const [i, word] of words.entries()) {
    if (word === 'cd' || word === 'pushd' || word === 'chdir') {
      const target = words[i + 1];
      if (target === undefined || target === '-' || (target.startsWith('-') && target !== '--'))
        throw new ToolRefusal(`refused: "${word}" without a folder inside the task folder`);
    }
    if (word.startsWith('~')) throw new ToolRefusal(`refused: "${word}" refers to a home folder outside the task folder`);
    // `--out=../x` and `dir/../..`: check every path-looking part.
    for (const part of word.split('=')) {
      if (!part.includes('/') && part !== '..') continue;
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(part)) continue; // a URL, not a path
      if (isAbsolute(part)) {
        if (guard.contains(resolve(part)) || SYSTEM_FILES.has(part) || SYSTEM_PREFIXES.some((p) => part.startsWith(p))) continue;
        throw new ToolRefusal(`refused: absolute path "${part}" is outside the task folder`);
      }
      if (part.split('/').includes('..') && !guard.contains(resolve(guard.root, part))) {
        throw new ToolRefusal(`refused: "${part}" leads outside the task folder`);
      }
    }
  }
}

export const runCommandTool = defineTool({
  name: 'run_command',
  description:
    'Run a shell command (/bin/sh -c) in the task folder and return its exit code and combined output (capped). ' +
    'Commands that leave the folder (cd .., absolute paths outside) are refused. Where a sandbox is available, writes outside the folder, ' +
    'its temp folder (TMPDIR) and tool caches fail (read-only file system), secrets in the home folder read as missing, ' +
    'and only allow-listed hosts (package registries) are reachable.',
  schema: z.object({
    command: z.string().min(1),
    timeout_ms: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  }),
  async run({ command, timeout_ms }, { guard, ctx, sandbox }) {
    // The text check stays the first line, with or without a sandbox: it gives the model a clear reason early.
    checkCommand(command, guard);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of SECRET_ENV) delete env[key];
    const prepared = await prepare(command, guard.root, env, ctx, sandbox);
    try {
      return await runPrepared(prepared, guard.root, timeout_ms ?? DEFAULT_TIMEOUT_MS, ctx);
    } finally {
      await prepared.release();
    }
  },
});

/** Attempts whose confinement is already noted: an unconfined one is said once in the log, not per command. */
const noted = new WeakSet<TaskContext>();

async function prepare(command: string, cwd: string, env: NodeJS.ProcessEnv, ctx: TaskContext, sandbox: ShellSandbox | undefined): Promise<PreparedCommand> {
  const probe = sandbox ? await sandbox.probe() : { available: false as const, reason: 'no sandbox configured for this runner' };
  if (!noted.has(ctx)) {
    noted.add(ctx);
    ctx.noteSandboxed?.(probe.available);
    if (!probe.available) {
      const warning = `run_command: commands run UNCONFINED (only the text checks apply): ${probe.reason}`;
      ctx.log(`[${warning}]\n`);
      ctx.logger.warn(warning);
    } else if (probe.warnings.length > 0) {
      ctx.log(`[run_command: sandbox (${probe.mechanism}) warning: ${probe.warnings.join('; ')}]\n`);
    }
  }
  return probe.available ? sandbox!.prepare(command, cwd, env, ctx.signal) : unconfined(command, env);
}

async function runPrepared(prepared: PreparedCommand, cwd: string, timeoutMs: number, ctx: TaskContext): Promise<string> {
  // Its own process group (detached), so cancel and timeout kill the command and everything it started.
  const child = spawn(prepared.file, prepared.args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: prepared.env });
  if (child.pid) ctx.setPid(child.pid);
  let output = '';
  let dropped = 0;
  const append = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    // Keep the head and the most recent tail; memory stays bounded for chatty commands.
    if (output.length < MAX_OUTPUT_CHARS * 2) output += text;
    else {
      dropped += text.length;
      output = output.slice(0, MAX_OUTPUT_CHARS) + output.slice(-MAX_OUTPUT_CHARS + text.length) + text;
    }
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);

  let killedFor: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (why: string) => {
    if (killedFor) return;
    killedFor = why;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => killGroup(`timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => killGroup('cancelled');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  try {
    const code = await new Promise<number | null>((resolveExit, reject) => {
      child.once('error', reject);
      child.once('close', (c, sig) => resolveExit(c ?? (sig ? 128 : null)));
    });
    // The shell may exit while background children of its group live on; reap them.
    signalGroup(child.pid, 'SIGKILL');
    if (killedFor === 'cancelled') throw new Error('run_command cancelled');
    const tail = dropped ? `\n… [${dropped} characters of output dropped]` : '';
    const head = killedFor ? `command ${killedFor}; killed\n` : `exit code ${code}\n`;
    return head + capText(output, MAX_OUTPUT_CHARS) + tail;
  } finally {
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
