import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AGENT_SNAPSHOT_LIMIT, snapshotAgentFiles } from '../agents/agent-catalog.ts';
import type { RunDelivery } from '../model/run-delivery.ts';
import { gitOk } from './git-exec.ts';

/**
 * What a new run's worktree (made from HEAD) would miss of the project folder the user sees: the
 * agent definitions (kept with the run), the files listed for copying (`.worktreeinclude`, the
 * workflow's `include:`), and a count of the other uncommitted files, said once in the run's notes.
 */
export interface ProjectFiles {
  delivery: Pick<RunDelivery, 'agentFiles' | 'projectDir'>;
  /** Paths (relative to the project folder) copied into the worktree. */
  copied: string[];
  notes: string[];
}

/** The file Claude Code reads for the same purpose: gitignore-style patterns of local files a worktree should get. */
export const WORKTREE_INCLUDE_FILE = '.worktreeinclude';

const nul = (out: string) => out.split('\0').filter(Boolean);

/** Patterns from `.worktreeinclude` in the project folder (gitignore syntax; `#` comments) and the workflow's `include:`. */
async function includePatterns(projectDir: string, include: readonly string[]): Promise<string[]> {
  const file = await readFile(join(projectDir, WORKTREE_INCLUDE_FILE), 'utf8').catch(() => '');
  const fromFile = file
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return [...fromFile, ...include.map((p) => p.trim()).filter(Boolean)];
}

/**
 * Files of the project folder matching `patterns` that HEAD does not have as they are: untracked
 * or git-ignored ones (`.env`), and tracked ones with uncommitted edits. Relative to the project folder.
 */
async function filesToCopy(projectDir: string, patterns: string[]): Promise<string[]> {
  if (!patterns.length) return [];
  const dir = await mkdtemp(join(tmpdir(), 'o8-include-'));
  try {
    const list = join(dir, 'patterns');
    await writeFile(list, `${patterns.join('\n')}\n`);
    const untracked = nul(await gitOk(projectDir, ['ls-files', '-z', '--others', '--ignored', `--exclude-from=${list}`]));
    const modified = new Set(nul(await gitOk(projectDir, ['ls-files', '-z', '--modified'])));
    const tracked = nul(await gitOk(projectDir, ['ls-files', '-z', '--cached', '--ignored', `--exclude-from=${list}`])).filter((p) => modified.has(p));
    return [...new Set([...untracked, ...tracked])].sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Uncommitted paths under the project folder (staged, unstaged, untracked; not ignored), relative to it. */
async function uncommitted(projectDir: string): Promise<string[]> {
  // --porcelain paths are relative to the repository's top; `ls-files` ones to the folder: ask for the prefix.
  const prefix = (await gitOk(projectDir, ['rev-parse', '--show-prefix'])).trim();
  const entries = nul(await gitOk(projectDir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.']));
  const paths: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e[0] === 'R' || e[0] === 'C') i++; // the rename's old path follows
    const path = e.slice(3);
    if (path.startsWith(prefix)) paths.push(path.slice(prefix.length));
  }
  return paths;
}

/**
 * Prepares a new worktree for a run launched in `projectDir`: keeps the project's agent files,
 * copies the files `.worktreeinclude` / `include:` list (committing those git does not ignore, so
 * the branch says they came in), and notes how many other uncommitted files the run cannot see.
 */
export async function bringProjectFiles(options: {
  projectDir: string;
  worktreeCwd: string;
  include?: readonly string[];
  commit: (message: string) => Promise<unknown>;
}): Promise<ProjectFiles> {
  const { projectDir, worktreeCwd } = options;
  const notes: string[] = [];
  const agents = await snapshotAgentFiles(projectDir);
  if (agents.skipped.length) notes.push(`agent files past ${AGENT_SNAPSHOT_LIMIT / 1024} KB were not kept with the run: ${agents.skipped.join(', ')}`);
  const copied = await filesToCopy(projectDir, await includePatterns(projectDir, options.include ?? []));
  for (const path of copied) {
    await mkdir(dirname(join(worktreeCwd, path)), { recursive: true });
    await copyFile(join(projectDir, path), join(worktreeCwd, path));
  }
  if (copied.length) {
    await options.commit(`Files copied in from the project folder (${WORKTREE_INCLUDE_FILE} / include:)\n\n${copied.join('\n')}`);
    notes.push(`copied ${copied.length} file(s) from the project folder into the run's worktree (${WORKTREE_INCLUDE_FILE} / include:): ${sample(copied)}`);
  }
  const seen = new Set([...copied, ...agents.files.map((f) => f.path)]);
  const unseen = (await uncommitted(projectDir)).filter((p) => !seen.has(p));
  if (unseen.length) {
    notes.push(
      `${unseen.length} uncommitted file${unseen.length === 1 ? '' : 's'} in the project folder ${unseen.length === 1 ? 'is' : 'are'} not in the ` +
        `run's worktree, which starts from the last commit (${sample(unseen)}): commit them, use \`workspace: in-place\`, ` +
        `or list them in ${WORKTREE_INCLUDE_FILE} (or the workflow's \`include:\`) to copy them in`,
    );
  }
  return { delivery: { projectDir, ...(agents.files.length ? { agentFiles: agents.files } : {}) }, copied, notes };
}

function sample(paths: string[]): string {
  return paths.length > 3 ? `${paths.slice(0, 3).join(', ')}, …` : paths.join(', ');
}
