import { spawn } from 'node:child_process';
import { sharedShellSandbox, unconfined, type PreparedCommand, type ShellSandbox } from '../sandbox/shell-sandbox.ts';
import type { TaskContext, TaskOutput, TaskRunner } from './task-runner.ts';
import { TaskError, abortReason } from './task-runner.ts';

const MAX_OUTPUT = 1024 * 1024;
const KILL_GRACE_MS = 2000;

export interface ShellRunnerOptions {
  /** Setting for `run:` tasks that say nothing (`sandbox:` unset): run them in the sandbox. Default false. */
  sandboxRunTasks?: boolean;
  /** Default: the process's shared sandbox, loaded only when a sandboxed task starts. */
  sandbox?: ShellSandbox;
}

/**
 * Runs `run:` tasks with /bin/sh in their own process group, so cancellation and
 * timeouts reach every process the command started, not just the shell. A task with
 * `sandbox: true` (or every task, by setting) runs inside the OS sandbox, and fails
 * where there is none: the user asked for confinement, so running without is no fallback.
 */
export class ShellRunner implements TaskRunner {
  readonly kind = 'run';

  constructor(private readonly options: ShellRunnerOptions = {}) {}

  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const action = ctx.action;
    if (action.kind !== 'run') throw new TaskError(`shell runner got a ${action.kind} task`, false);
    const env = { ...process.env, ...action.env, ORCHESTR8_RUN_ID: ctx.run.id, ORCHESTR8_TASK_ID: ctx.task.id };
    const sandboxed = action.sandbox ?? this.options.sandboxRunTasks ?? false;
    let command: PreparedCommand;
    if (sandboxed) {
      const sandbox = this.options.sandbox ?? sharedShellSandbox();
      const probe = await sandbox.probe();
      if (!probe.available) {
        const why = action.sandbox ? 'sandbox: true' : 'the setting to sandbox run tasks';
        throw new TaskError(`this task runs only in the sandbox (${why}), and there is none here: ${probe.reason}`, false);
      }
      command = await sandbox.prepare(action.run, ctx.cwd, env, ctx.signal);
      const warnings = probe.warnings.map((w) => `; warning: ${w}`).join('');
      ctx.log(`[sandbox: ${probe.mechanism}; writes only in the task folder, temp and tool caches; network: allow-listed hosts${warnings}]\n`);
    } else {
      command = unconfined(action.run, env);
    }
    ctx.noteSandboxed?.(sandboxed);
    try {
      return await this.spawn(ctx, command);
    } finally {
      await command.release();
    }
  }

  private spawn(ctx: TaskContext, command: PreparedCommand): Promise<TaskOutput> {
    return new Promise((resolve, reject) => {
      const child = spawn(command.file, command.args, {
        cwd: ctx.cwd,
        env: command.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout = new CappedText(MAX_OUTPUT);
      const stderr = new CappedText(16 * 1024);
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, signal);
        } catch {
          // the group is already gone
        }
      };
      const onAbort = () => {
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      };
      if (child.pid) ctx.setPid(child.pid);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) onAbort(); // aborted before the listener existed: it would never fire
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        ctx.log(chunk.toString('utf8'));
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        ctx.log(chunk.toString('utf8'));
      });
      // Reap whatever the command left running in its group once the shell itself has exited.
      child.on('exit', () => killGroup('SIGKILL'));
      child.on('error', (error) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(new TaskError(`could not start /bin/sh in ${ctx.cwd}: ${error.message}`, false));
      });
      child.on('close', (code, signal) => {
        ctx.signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        const reason = abortReason(ctx.signal);
        if (reason) return reject(new TaskError(reason));
        if (code === 0) return resolve({ output: stdout.text().trimEnd(), exitCode: 0 });
        const tail = stderr.text().trim().split('\n').slice(-5).join('\n');
        reject(new TaskError(`${signal ? `killed by ${signal}` : `exited with code ${code}`}${tail ? `: ${tail}` : ''}`));
      });
    });
  }
}

/** Keeps the last `limit` bytes of a stream, noting how much was dropped. */
class CappedText {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped ? `[… ${this.dropped} bytes of earlier output dropped …]\n${body}` : body;
  }
}
