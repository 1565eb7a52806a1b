import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

/** Where the `claude` executable that a claude-code task runs was found. */
export interface ClaudeCodeExecutable {
  path: string;
  /** `setting`: the configured path; `package`: the agent SDK's platform package; `path`: a `claude` on PATH. */
  source: 'setting' | 'package' | 'path';
}

export interface FindClaudeCodeOptions {
  /** `orchestr8.claudeCodePath` (or `ORCHESTR8_CLAUDE_CODE_PATH` for the CLI). When set it must work: no fallback hides a typo. */
  configuredPath?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  /** Resolves a package's `package.json`; default: node's resolution from this module. Tests pass a stub. */
  resolvePackageJson?: (name: string) => string | undefined;
}

export const CLAUDE_CODE_INSTALL_HELP =
  'Claude Code is not installed for the claude-code runtime. Install it (npm install -g @anthropic-ai/claude-code, ' +
  'or see https://code.claude.com) so that "claude" is on PATH, ' +
  'or set orchestr8.claudeCodePath (CLI: ORCHESTR8_CLAUDE_CODE_PATH) to its executable. ' +
  'Or run the agent on the built-in runtime: runtime: orchestr8.';

/**
 * Finds the native Claude Code executable: the configured path, else the agent SDK's
 * platform package (`@anthropic-ai/claude-agent-sdk-linux-x64`, … — ~380 MB, never in the
 * .vsix, present where the CLI was installed with npm), else `claude` on PATH. Undefined
 * when none exists; a configured path that is not an executable file is an error.
 */
export function findClaudeCode(options: FindClaudeCodeOptions = {}): ClaudeCodeExecutable | undefined {
  const platform = options.platform ?? process.platform;
  const exe = platform === 'win32' ? '.exe' : '';
  const configured = options.configuredPath?.trim();
  if (configured) {
    if (!isAbsolute(configured)) throw new Error(`orchestr8.claudeCodePath must be an absolute path, got "${configured}"`);
    if (!isExecutableFile(configured, platform)) throw new Error(`orchestr8.claudeCodePath: no executable at ${configured}`);
    return { path: configured, source: 'setting' };
  }

  const resolve = options.resolvePackageJson ?? defaultResolve;
  for (const name of platformPackages(platform, options.arch ?? process.arch)) {
    const manifest = resolve(`${name}/package.json`);
    const candidate = manifest && join(dirname(manifest), `claude${exe}`);
    if (candidate && isExecutableFile(candidate, platform)) return { path: candidate, source: 'package' };
  }

  const env = options.env ?? process.env;
  const pathVar = env.PATH ?? env.Path ?? '';
  for (const folder of pathVar.split(delimiter)) {
    if (!folder) continue;
    const candidate = join(folder, `claude${exe}`);
    if (isExecutableFile(candidate, platform)) return { path: candidate, source: 'path' };
  }
  return undefined;
}

/** The SDK's optional per-platform packages, glibc before musl as the SDK itself tries them. */
function platformPackages(platform: NodeJS.Platform, arch: string): string[] {
  const base = '@anthropic-ai/claude-agent-sdk';
  if (platform === 'linux') return [`${base}-linux-${arch}`, `${base}-linux-${arch}-musl`];
  return [`${base}-${platform}-${arch}`];
}

const requireHere = createRequire(import.meta.url);

function defaultResolve(name: string): string | undefined {
  try {
    return requireHere.resolve(name);
  } catch {
    return undefined;
  }
}

function isExecutableFile(path: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
