import { execFile } from 'node:child_process';

// Plain git for the modules that must stay light (the extension's bundle carries no simple-git).

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git without prompts (credentials, editors); resolves with the exit code, never rejects on a non-zero one. */
export function git(cwd: string, args: string[]): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_MERGE_AUTOEDIT: 'no' };
  for (const key of ['EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_PAGER', 'PAGER']) delete env[key];
  return new Promise((resolvePromise, reject) => {
    execFile('git', args, { cwd, env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof (error as NodeJS.ErrnoException).code === 'string') return reject(error);
      resolvePromise({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Its stdout; a non-zero exit throws with git's message. */
export async function gitOk(cwd: string, args: string[]): Promise<string> {
  const r = await git(cwd, args);
  if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}
