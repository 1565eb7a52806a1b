import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { errorMessage } from '../util/logger.ts';

/** Where a run's worktree lives and what it started from. */
export interface RunWorktree {
  repoRoot: string;
  worktree: string;
  branch: string;
  /** Commit the branch started from. */
  baseSha: string;
  /** Branch name the base ref points at (`main`), when it is a branch; the pull request's base. */
  baseBranch?: string;
}

export type PushOutcome =
  | { pushed: true; remote: string }
  | { pushed: false; reason: 'no-remote'; message: string }
  | { pushed: false; reason: 'rejected'; message: string };

/** Identity used for commits when the repository has none configured (fresh CI boxes, tests). */
const FALLBACK_IDENTITY = ['-c', 'user.name=Orchestr8', '-c', 'user.email=orchestr8@localhost'];

/**
 * Variables simple-git refuses to hand to git because they name a program to run. Those
 * only used interactively (an editor, a pager) are dropped: nothing here opens one, and
 * `npm`/`npx` export EDITOR, which would otherwise fail every git call.
 */
const INTERACTIVE_ONLY = new Set(['editor', 'visual', 'git_editor', 'git_sequence_editor', 'pager', 'git_pager']);
/** The others are the user's own transport and config (an SSH command, a proxy, a config file): passed on, allowed. */
const USER_SETTINGS: Record<string, string> = {
  git_ssh: 'allowUnsafeSshCommand',
  git_ssh_command: 'allowUnsafeSshCommand',
  git_askpass: 'allowUnsafeAskPass',
  ssh_askpass: 'allowUnsafeAskPass',
  git_config: 'allowUnsafeConfigPaths',
  git_config_global: 'allowUnsafeConfigPaths',
  git_config_system: 'allowUnsafeConfigPaths',
  prefix: 'allowUnsafeConfigPaths',
  git_config_count: 'allowUnsafeConfigEnvCount',
  git_config_parameters: 'allowUnsafeConfigEnvCount',
  git_exec_path: 'allowUnsafeExec',
  git_external_diff: 'allowUnsafeDiffExternal',
  git_proxy_command: 'allowUnsafeGitProxy',
  git_template_dir: 'allowUnsafeTemplateDir',
};

/** simple-git at `dir`, with the environment every git call here needs. */
export function git(dir: string, extraEnv: Record<string, string> = {}): SimpleGit {
  // Credential prompts must not stall a background run; user hooks are skipped per
  // command (--no-verify) for the same reason.
  // simple-git refuses GIT_* variables we pass unless listed; the user's own are trusted.
  const allowEnvironment = [...Object.keys(process.env).filter((k) => k.startsWith('GIT_')), 'GIT_TERMINAL_PROMPT'];
  const env: Record<string, string | undefined> = {};
  const unsafe: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (INTERACTIVE_ONLY.has(k)) continue;
    if (USER_SETTINGS[k]) unsafe[USER_SETTINGS[k]] = true;
    env[key] = value;
  }
  return simpleGit({ baseDir: dir, allowEnvironment, unsafe }).env({ ...env, ...extraEnv, GIT_TERMINAL_PROMPT: '0' });
}

/**
 * The top folder of the git repository holding `cwd`, or undefined when git says it is not in
 * one. Any other failure (no git installed, a repository git refuses to use) is thrown, so it
 * is reported as itself rather than as "not a repository".
 */
export async function findRepository(cwd: string): Promise<string | undefined> {
  if (!existsSync(cwd)) return undefined;
  try {
    // Untranslated messages: "not a git repository" is told apart from other failures by its text.
    const top = (await git(cwd, { LC_ALL: 'C' }).revparse(['--show-toplevel'])).trim();
    return top || undefined;
  } catch (error) {
    if (/not a git repository/i.test(errorMessage(error))) return undefined;
    throw error;
  }
}

/**
 * Whether `folder` (relative to the repository's top) is a folder of commit `base`. A project
 * that git ignores or never committed would be missing from a worktree made from `base`.
 */
export async function isFolderInCommit(repoRoot: string, base: string, folder: string): Promise<boolean> {
  if (!folder) return true;
  try {
    return (await git(repoRoot).raw(['cat-file', '-t', `${base}:${folder.split(sep).join('/')}`])).trim() === 'tree';
  } catch {
    return false;
  }
}

// simple-git resolves (not rejects) when git exits non-zero with nothing on stderr, so
// every check here reads output rather than relying on exit codes.
export async function branchExists(g: SimpleGit, branch: string): Promise<boolean> {
  const out = await g.raw(['for-each-ref', '--format=%(refname)', `refs/heads/${branch}`]);
  return out.trim() === `refs/heads/${branch}`;
}

/** Worktrees git knows about, by absolute path, with the branch each has checked out. */
export async function listWorktrees(repoRoot: string): Promise<Array<{ path: string; branch?: string; head?: string }>> {
  const out = await git(repoRoot).raw(['worktree', 'list', '--porcelain']);
  const result: Array<{ path: string; branch?: string; head?: string }> = [];
  for (const block of out.split('\n\n')) {
    const entry: { path: string; branch?: string; head?: string } = { path: '' };
    for (const line of block.split('\n')) {
      if (line.startsWith('worktree ')) entry.path = line.slice(9);
      else if (line.startsWith('branch ')) entry.branch = line.slice(7).replace(/^refs\/heads\//, '');
      else if (line.startsWith('HEAD ')) entry.head = line.slice(5);
    }
    if (entry.path) result.push(entry);
  }
  return result;
}

/**
 * Gives a run its own worktree on a new branch, leaving the user's working tree (dirty
 * or not) alone. Idempotent: if `dir` already holds a worktree on a branch named
 * `branch` or `branch-N` (a crash after creating it), that one is returned. A branch
 * of that name made by someone else is never reused: the next free `branch-N` is taken.
 */
export async function createRunWorktree(options: {
  repoRoot: string;
  dir: string;
  branch: string;
  /** Ref to start from; HEAD by default. */
  base?: string;
  /** The run's branch from before (its worktree was removed, the run is retried): checked out again, commits kept. */
  resume?: { branch: string; baseSha: string };
}): Promise<RunWorktree> {
  const { repoRoot } = options;
  const dir = resolve(options.dir);
  const g = git(repoRoot);
  const base = options.base ?? 'HEAD';
  const baseSha = (await g.revparse([`${base}^{commit}`])).trim();
  let baseBranch: string | undefined;
  try {
    const name = (await g.raw(['rev-parse', '--abbrev-ref', base])).trim();
    // A sha or tag as base names no branch; a remote-tracking one names the remote's branch.
    if (name.startsWith('origin/')) baseBranch = name.slice('origin/'.length);
    else if (name && name !== 'HEAD' && (await branchExists(g, name))) baseBranch = name;
  } catch {
    // a bare sha as base: no branch to name as the pull request's base
  }

  const existing = (await listWorktrees(repoRoot)).find((w) => resolve(w.path) === dir);
  if (existing?.branch && (existing.branch === options.branch || existing.branch.startsWith(`${options.branch}-`))) {
    const startedFrom = await mergeBase(g, baseSha, existing.branch);
    return { repoRoot, worktree: dir, branch: existing.branch, baseSha: startedFrom ?? baseSha, baseBranch };
  }
  if (existing) throw new Error(`${dir} is already a worktree of another branch (${existing.branch ?? 'detached'})`);
  if (existsSync(dir)) throw new Error(`cannot create the run's worktree: ${dir} already exists and is not a worktree of this repository`);

  if (options.resume && (await branchExists(g, options.resume.branch))) {
    await mkdir(dirname(dir), { recursive: true });
    await g.raw(['worktree', 'prune']);
    await g.raw(['worktree', 'add', dir, options.resume.branch]);
    return { repoRoot, worktree: dir, branch: options.resume.branch, baseSha: options.resume.baseSha, baseBranch };
  }
  let branch = options.branch;
  for (let n = 2; await branchExists(g, branch); n++) branch = `${options.branch}-${n}`;
  await mkdir(dirname(dir), { recursive: true });
  await g.raw(['worktree', 'add', '-b', branch, dir, baseSha]);
  return { repoRoot, worktree: dir, branch, baseSha, baseBranch };
}

async function mergeBase(g: SimpleGit, a: string, b: string): Promise<string | undefined> {
  try {
    return (await g.raw(['merge-base', a, b])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether a worktree's repository has a commit identity; asked once per worktree (a git spawn per commit saved). */
const identityKnown = new Map<string, boolean>();

/**
 * Commits everything changed in the worktree. Returns the new commit's sha, or
 * undefined when there was nothing to commit (so calling it again after a crash is harmless).
 */
export async function commitAll(worktree: string, message: string): Promise<string | undefined> {
  const g = git(worktree);
  await g.raw(['add', '-A']);
  const staged = (await g.raw(['diff', '--cached', '--name-only'])).trim();
  if (!staged) return undefined;
  await g.raw([...(await identityArgs(worktree)), 'commit', '--no-verify', '-q', '-m', message]);
  return (await g.revparse(['HEAD'])).trim();
}

/** `-c user.name=… -c user.email=…` when the repository at `dir` has no identity of its own, else nothing. */
export async function identityArgs(dir: string): Promise<string[]> {
  let hasIdentity = identityKnown.get(dir);
  if (hasIdentity === undefined) {
    hasIdentity = await git(dir)
      .raw(['config', '--get', 'user.email'])
      .then((v) => v.trim() !== '')
      .catch(() => false);
    identityKnown.set(dir, hasIdentity);
  }
  return hasIdentity ? [] : FALLBACK_IDENTITY;
}

/** Commits on `branch` that `baseSha` does not have. */
export async function commitsAhead(repoRoot: string, baseSha: string, branch: string): Promise<number> {
  const n = (await git(repoRoot).raw(['rev-list', '--count', `${baseSha}..refs/heads/${branch}`])).trim();
  return Number(n) || 0;
}

export async function remoteUrl(repoRoot: string, remote: string): Promise<string | undefined> {
  const remotes = await git(repoRoot).getRemotes(true);
  const found = remotes.find((r) => r.name === remote);
  return found ? found.refs.push || found.refs.fetch : undefined;
}

/** Pushes `branch` to `remote`; never forces, so someone else's branch of that name is never overwritten. */
export async function pushBranch(repoRoot: string, remote: string, branch: string): Promise<PushOutcome> {
  if (!(await remoteUrl(repoRoot, remote))) {
    return { pushed: false, reason: 'no-remote', message: `no git remote named "${remote}"; the branch ${branch} stays local` };
  }
  try {
    await git(repoRoot).raw(['push', '--no-verify', '--porcelain', remote, `refs/heads/${branch}:refs/heads/${branch}`]);
    return { pushed: true, remote };
  } catch (error) {
    const message = error instanceof Error ? error.message.trim() : String(error);
    return { pushed: false, reason: 'rejected', message: `push of ${branch} to ${remote} failed: ${message}` };
  }
}

/** Removes a worktree (discarding its uncommitted changes) and prunes git's record of it. The branch stays. */
export async function removeWorktree(repoRoot: string, worktree: string): Promise<void> {
  const g = git(repoRoot);
  if (existsSync(worktree)) await g.raw(['worktree', 'remove', '--force', worktree]);
  await g.raw(['worktree', 'prune']);
}

/** Whether every commit of `branch` is already in `into` (merged, or fast-forwarded). */
export async function isMerged(repoRoot: string, branch: string, into: string): Promise<boolean> {
  try {
    const n = (await git(repoRoot).raw(['rev-list', '--count', `${into}..refs/heads/${branch}`])).trim();
    return n === '0';
  } catch {
    return false;
  }
}

/**
 * Keeps a folder inside the user's working tree (the state folder `<project>/.orchestr8/state`, run worktrees included)
 * out of `git status` and `git add -A`, through the repository's local, unversioned
 * `info/exclude`. Does nothing for folders outside the working tree.
 */
export async function excludeFromRepository(repoRoot: string, folder: string): Promise<void> {
  const rel = relative(resolve(repoRoot), resolve(folder));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return;
  const commonDir = (await git(repoRoot).raw(['rev-parse', '--git-common-dir'])).trim();
  const file = join(isAbsolute(commonDir) ? commonDir : join(repoRoot, commonDir), 'info', 'exclude');
  const line = `/${rel.split(sep).join('/')}/`;
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current.split(/\r?\n/).includes(line)) return;
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${current && !current.endsWith('\n') ? '\n' : ''}# orchestr8 state (runs, logs, run worktrees)\n${line}\n`);
}
