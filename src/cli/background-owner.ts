import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchRequest, LaunchResult } from '../core/engine/engine-api.ts';
import type { CliContext } from './cli-context.ts';
import { CliError, ExitCode } from './cli-error.ts';

/** What the background owner answers on its stdout once the launch is durable. */
export type LaunchReply = { ok: true; result: LaunchResult } | { ok: false; error: string; code: number };

/**
 * Fire and forget from a terminal: starts a detached `orchestr8 __serve` that owns
 * the state, hands it the launch on stdin, and returns as soon as it answers with
 * the durable ids. The background owner exits once its runs are finished.
 */
export async function launchInBackground(ctx: CliContext, request: LaunchRequest): Promise<LaunchResult> {
  fs.mkdirSync(ctx.stateDir, { recursive: true });
  const logFd = fs.openSync(path.join(ctx.stateDir, 'serve.log'), 'a', 0o600);
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, script, '__serve', '--state', ctx.stateDir], {
    cwd: ctx.projectRoot,
    detached: true,
    stdio: ['pipe', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  child.stdin!.end(JSON.stringify(request));
  const reply = await new Promise<LaunchReply>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as LaunchReply);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new CliError(`background owner exited (${code}) before launching; see ${path.join(ctx.stateDir, 'serve.log')}`, ExitCode.failed)));
  });
  child.stdout!.destroy();
  child.unref();
  if (!reply.ok) throw new CliError(reply.error, reply.code);
  return reply.result;
}
