import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The CLI tests' one polling helper is the suite's (test/support/until.ts).
export { until } from '../support/until.ts';

/** The built CLI, as users run it (`npm run build` makes it; `npm test` builds first). */
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli.cjs');

export function cliMissingReason(): string | false {
  return fs.existsSync(CLI) ? false : `SKIPPED: ${CLI} is missing; run \`npm run build\` first`;
}

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without what would change results behaviour on this machine (a real GitHub token, a Redis URL). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const key of ['GITHUB_TOKEN', 'ORCHESTR8_REDIS_URL', 'ORCHESTR8_STATE', 'ORCHESTR8_WEBHOOK_URLS']) if (!(key in extra)) delete env[key];
  return env;
}

/** Runs `orchestr8 ARGS` to its end. */
export function orchestr8(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-lived `orchestr8 ARGS` (a foreground run, an MCP server): its output so far and its end. */
export function startOrchestr8(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: () => CliOutcome; exited: Promise<CliOutcome> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliOutcome>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, output: () => ({ code: child.exitCode, stdout, stderr }), exited };
}
