import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxSettings, SpawnedProcess, SpawnOptions } from '@anthropic-ai/claude-agent-sdk';
import type { TaskContext } from '../../runners/task-runner.ts';
import { commandRules } from '../../sandbox/sandbox-policy.ts';
import { sharedShellSandbox, type ShellSandbox } from '../../sandbox/shell-sandbox.ts';

/**
 * Claude Code's own sandbox for a granted Bash, with our rules; where there is none, Bash runs
 * unconfined under the grant's checks, and the log says so once.
 */
export async function bashSandbox(ctx: TaskContext, root: string, sandbox: (() => ShellSandbox | false) | undefined): Promise<SandboxSettings | undefined> {
  const shell = sandbox?.() ?? sharedShellSandbox();
  const probe = shell ? await shell.probe() : { available: false as const, reason: 'the sandbox is turned off' };
  ctx.noteSandboxed?.(probe.available);
  if (!shell || !probe.available) {
    const why = probe.available ? 'the sandbox is turned off' : probe.reason;
    ctx.log(`[UNCONFINED: Claude Code's Bash runs without an OS sandbox here (${why}); only the permission checks apply]\n`);
    return undefined;
  }
  // A temp folder of the task's own: all of /tmp writable would let a command reach other projects there.
  const rules = commandRules(shell.policy, root, mkdtempSync(join(tmpdir(), 'o8-claude-code-')));
  return {
    enabled: true,
    // Never run a command outside it, and never let the model ask to: a sandbox that cannot start fails the task.
    failIfUnavailable: true,
    allowUnsandboxedCommands: false,
    autoAllowBashIfSandboxed: false,
    network: { allowedDomains: [...shell.policy.allowedDomains] },
    filesystem: { allowWrite: rules.allowWrite, denyWrite: rules.denyWrite, denyRead: rules.denyRead },
  };
}

/** Claude Code's environment: the user's (its login, PATH), the base URL if one is set, no telemetry or update checks from a background run. */
export function claudeCodeEnv(base: NodeJS.ProcessEnv, baseURL: string | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  if (baseURL) env['ANTHROPIC_BASE_URL'] = baseURL;
  env['CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC'] ??= '1';
  env['CLAUDE_AGENT_SDK_CLIENT_APP'] ??= 'orchestr8';
  return env;
}

/**
 * Claude Code in its own process group, recorded as the task's pid: after a crash of the
 * engine the next owner kills the group (it and the commands it started) before the task
 * resumes, so two processes never write the same session. Also killed when it exits.
 */
export function spawnInOwnGroup(ctx: TaskContext, o: SpawnOptions, stderr: TailBuffer): SpawnedProcess {
  // Windows has no process groups to kill (and `detached` would open a console there).
  const groups = process.platform !== 'win32';
  const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: groups, windowsHide: true });
  const killGroup = () => {
    try {
      if (child.pid) process.kill(groups ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
  o.signal?.addEventListener('abort', killGroup, { once: true });
  child.once('exit', killGroup);
  if (child.pid && groups) ctx.setPid(child.pid);
  return child;
}

/** Keeps the last characters of a stream (Claude Code's stderr, for error messages). */
export class TailBuffer {
  private buffer = '';
  constructor(private readonly max: number) {}
  push(text: string): void {
    this.buffer = (this.buffer + text).slice(-this.max);
  }
  get text(): string {
    return this.buffer.trim().split('\n').slice(-5).join(' | ');
  }
}
