import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Hosts a sandboxed command may reach by default: the package registries that builds and
 * installs need, and the Anthropic API. Everything else, loopback included, is refused.
 */
export const DEFAULT_ALLOWED_DOMAINS: readonly string[] = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'crates.io',
  'index.crates.io',
  'static.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
  'repo.maven.apache.org',
  'repo1.maven.org',
  'rubygems.org',
  'api.anthropic.com',
];

/**
 * Files and folders under the home folder that hold credentials; a sandboxed command sees
 * them empty. Not exhaustive: a secret kept elsewhere stays readable (see docs/agents.md).
 */
export const SECRET_PATHS: readonly string[] = [
  '.ssh',
  '.aws',
  '.azure',
  '.config/gh',
  '.config/hub',
  '.config/gcloud',
  '.docker/config.json',
  '.kube',
  '.gnupg',
  '.password-store',
  '.local/share/keyrings',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.vault-token',
  '.claude/.credentials.json',
];

/** Caches that package managers and compilers write to while they work (under the home folder). */
export const TOOL_CACHE_PATHS: readonly string[] = [
  '.npm',
  '.cache',
  '.yarn',
  '.pnpm-store',
  '.local/share/pnpm',
  '.cargo/registry',
  '.cargo/git',
  'go/pkg/mod',
  '.m2/repository',
  '.gradle/caches',
];

/**
 * Paths in the task folder that run code later, outside the sandbox (git hooks, shell and
 * editor settings): not writable where they exist. The runtime itself protects these only in
 * the process's current folder, which is not the task folder.
 */
export const PROTECTED_IN_FOLDER: readonly string[] = [
  '.git/hooks',
  '.git/config',
  '.gitmodules',
  '.gitconfig',
  '.bashrc',
  '.bash_profile',
  '.zshrc',
  '.zprofile',
  '.profile',
  '.ripgreprc',
  '.mcp.json',
  '.vscode',
  '.idea',
  '.claude/commands',
  '.claude/agents',
];

/** What a sandboxed command may do beyond its task folder. One per process: the network part is process-wide. */
export interface SandboxPolicy {
  /** Hosts commands may reach (`example.com`, `*.example.com`, `host:port`). Empty: no network. */
  allowedDomains: readonly string[];
  /** More folders commands may write to, besides the task folder, temp and tool caches. */
  allowWrite: readonly string[];
  /** The home folder whose secrets are hidden and whose tool caches are writable. */
  home: string;
}

/** Filesystem rules for one command, as absolute paths. */
export interface CommandRules {
  allowWrite: string[];
  denyWrite: string[];
  denyRead: string[];
}

/**
 * The filesystem rules of one command run in `cwd` with its own temp folder `tmp`. Caches
 * are writable only if they exist: the sandbox cannot bind a missing folder, and creating
 * them here would litter the home folder of users who never use that tool.
 */
export function commandRules(policy: SandboxPolicy, cwd: string, tmp: string): CommandRules {
  const caches = TOOL_CACHE_PATHS.map((p) => join(policy.home, p)).filter((p) => existsSync(p));
  return {
    allowWrite: [cwd, tmp, ...caches, ...policy.allowWrite],
    // Only those that exist: for a missing one the runtime puts a placeholder file in the task folder while the
    // command runs, which `git add -A` there would pick up. (A worktree's `.git` is a file; its hooks live in the
    // main repository, outside the folder, not writable anyway.)
    denyWrite: PROTECTED_IN_FOLDER.map((p) => join(cwd, p)).filter((p) => existsSync(p)),
    denyRead: SECRET_PATHS.map((p) => join(policy.home, p)),
  };
}
