import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { RunDelivery } from '../model/run-delivery.ts';
import { git, gitOk } from './git-exec.ts';

/**
 * Review, apply and discard: what a user does with a run's branch once it has work on it.
 * Shared by the CLI (`orchestr8 diff|apply|discard`) and the extension's commands; everything
 * here reads the run's recorded delivery (repository, branch, base commit, worktree) and git,
 * never the store.
 */

/** Raised when a run has no branch to review, apply or discard (in-place, no repository, discarded). */
export class NoRunBranchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoRunBranchError';
  }
}

/** One file a run changed, relative to the repository's top. */
export interface ChangedFile {
  /** `A` added, `M` modified, `D` deleted (renames are shown as a delete and an add). */
  status: 'A' | 'M' | 'D';
  path: string;
}

/** What a run changed: between its base commit and its branch (plus, while its worktree exists, what is not committed yet). */
export interface RunChanges {
  repoRoot: string;
  branch: string;
  baseSha: string;
  /** The branch's commit now. */
  headSha: string;
  /** The run's worktree when it still exists: its files are the newest version (a running run's work so far). */
  worktree?: string;
  files: ChangedFile[];
  /** Commits on the branch since the base, oldest first. */
  commits: Array<{ sha: string; subject: string }>;
}

/** The outcome of applying a run's branch to the user's current branch. */
export type ApplyOutcome =
  | { applied: true; branch: string; into: string; fastForward: boolean; alreadyApplied: boolean; files: string[] }
  | {
      applied: false;
      branch: string;
      into: string;
      /** `content`: the branch and the current branch change the same lines; `local-changes`: uncommitted edits in files the merge would change. */
      reason: 'content' | 'local-changes';
      /** The files in the way. */
      files: string[];
      /** Whether the conflicting merge was left in the working tree for the merge editor (`keepConflicts`). */
      leftInTree: boolean;
      message: string;
    };

/** What `discardRun` removed. */
export interface DiscardOutcome {
  worktrees: string[];
  branch?: string;
  /** `remote/branch` when the pushed branch was deleted too. */
  remoteBranch?: string;
  notes: string[];
}

/** Identity for merge commits when the repository has none configured (fresh CI boxes, tests). */
const FALLBACK_IDENTITY = ['-c', 'user.name=Orchestr8', '-c', 'user.email=orchestr8@localhost'];

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

async function hasIdentity(repoRoot: string): Promise<boolean> {
  return (await git(repoRoot, ['config', '--get', 'user.email'])).stdout.trim() !== '';
}

/** The run's repository and branch, or why it has none. */
function branchOf(runId: string, delivery: RunDelivery | undefined): { repoRoot: string; branch: string; baseSha?: string } {
  const d = delivery ?? {};
  if (d.workspace === 'in-place') throw new NoRunBranchError(`run ${runId} worked in place: it has no branch (its changes are already in the project folder)`);
  if (!d.repoRoot || !d.branch) throw new NoRunBranchError(`run ${runId} has no branch${d.notes?.length ? ` (${d.notes[0]})` : ''}`);
  return { repoRoot: d.repoRoot, branch: d.branch, baseSha: d.baseSha };
}

export async function branchExists(repoRoot: string, branch: string): Promise<boolean> {
  return (await git(repoRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).code === 0;
}

function parseNameStatus(out: string): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (const line of lines(out)) {
    const [status, ...paths] = line.split('\t');
    const s = status![0];
    if (s === 'R' || s === 'C') {
      if (s === 'R') files.push({ status: 'D', path: paths[0]! });
      files.push({ status: 'A', path: paths[1]! });
    } else files.push({ status: s === 'A' ? 'A' : s === 'D' ? 'D' : 'M', path: paths[0]! });
  }
  return files;
}

/**
 * What the run changed since its base commit. With its worktree still there (a running run,
 * or a finished one not cleaned up), uncommitted and untracked files in it count too, so a
 * running run shows what it has so far.
 */
export async function runChanges(runId: string, delivery: RunDelivery | undefined): Promise<RunChanges> {
  const { repoRoot, branch, baseSha } = branchOf(runId, delivery);
  if (!baseSha) throw new NoRunBranchError(`run ${runId} recorded no base commit: nothing to compare its branch with`);
  if (!(await branchExists(repoRoot, branch))) throw new NoRunBranchError(`the branch ${branch} of run ${runId} no longer exists (discarded or deleted)`);
  const headSha = (await gitOk(repoRoot, ['rev-parse', `refs/heads/${branch}`])).trim();
  const worktree = delivery?.worktree && existsSync(delivery.worktree) ? delivery.worktree : undefined;
  const byPath = new Map<string, ChangedFile>();
  if (worktree) {
    // The working files against the base: committed and not yet committed work alike.
    for (const f of parseNameStatus(await gitOk(worktree, ['diff', '--name-status', '-M', '--no-ext-diff', baseSha]))) byPath.set(f.path, f);
    for (const path of lines(await gitOk(worktree, ['ls-files', '--others', '--exclude-standard']))) byPath.set(path, { status: 'A', path });
  } else {
    for (const f of parseNameStatus(await gitOk(repoRoot, ['diff', '--name-status', '-M', '--no-ext-diff', baseSha, headSha]))) byPath.set(f.path, f);
  }
  const commits = lines(await gitOk(repoRoot, ['log', '--reverse', '--format=%H%x09%s', `${baseSha}..${headSha}`])).map((l) => {
    const [sha, ...subject] = l.split('\t');
    return { sha: sha!, subject: subject.join('\t') };
  });
  const files = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { repoRoot, branch, baseSha, headSha, ...(worktree ? { worktree } : {}), files, commits };
}

/** The unified diff of `runChanges` (what `orchestr8 diff` prints). */
export async function runPatch(changes: RunChanges, options: { stat?: boolean; color?: boolean } = {}): Promise<string> {
  const flags = ['--no-ext-diff', options.color ? '--color=always' : '--no-color', ...(options.stat ? ['--stat'] : [])];
  if (!changes.worktree) return gitOk(changes.repoRoot, ['diff', ...flags, changes.baseSha, changes.headSha]);
  const tracked = await gitOk(changes.worktree, ['diff', ...flags, changes.baseSha]);
  // Files not yet added are diffed against nothing, leaving the worktree's index alone (a task may be using it).
  const fresh = lines(await gitOk(changes.worktree, ['ls-files', '--others', '--exclude-standard']));
  if (!fresh.length) return tracked;
  const extra = await Promise.all(fresh.map((p) => git(changes.worktree!, ['diff', ...flags, '--no-index', '/dev/null', p]).then((r) => r.stdout)));
  return tracked + extra.join('');
}

/** The content of `path` at `ref` in the repository, or undefined when the file is not there. */
export async function fileAt(repoRoot: string, ref: string, path: string): Promise<string | undefined> {
  const r = await git(repoRoot, ['show', `${ref}:${path.split(sep).join('/')}`]);
  return r.code === 0 ? r.stdout : undefined;
}

/** The branch checked out in `repoRoot` (`HEAD` when detached). */
async function currentBranch(repoRoot: string): Promise<string> {
  return (await git(repoRoot, ['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim() || 'HEAD';
}

/** Paths with uncommitted changes (staged, unstaged or untracked) in the user's working tree. */
async function localChanges(repoRoot: string): Promise<Set<string>> {
  const out = await gitOk(repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  const paths = new Set<string>();
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i]!;
    if (entry.length < 4) continue;
    paths.add(entry.slice(3));
    // A rename's entry is followed by its old path.
    if (entry[0] === 'R' || entry[0] === 'C') paths.add(parts[++i]!);
  }
  return paths;
}

/**
 * Merges the run's branch into the branch checked out in the repository (the user's working
 * tree). Nothing is half-applied: the merge is computed first without touching any file
 * (`git merge-tree`), and when the branch conflicts with the current branch, or uncommitted
 * edits sit in files the merge would change, the working tree is left exactly as it was and the
 * files are named. With `keepConflicts` a content conflict is merged for real and left in the
 * tree with its markers, for the merge editor.
 */
export async function applyRun(runId: string, delivery: RunDelivery | undefined, options: { keepConflicts?: boolean } = {}): Promise<ApplyOutcome> {
  const { repoRoot, branch } = branchOf(runId, delivery);
  if (!(await branchExists(repoRoot, branch))) throw new NoRunBranchError(`the branch ${branch} of run ${runId} no longer exists (discarded or deleted)`);
  const into = await currentBranch(repoRoot);
  if (into === branch)
    throw new NoRunBranchError(`the run's branch ${branch} is the one checked out in ${repoRoot}: its changes are already in the working tree`);
  const head = (await gitOk(repoRoot, ['rev-parse', 'HEAD'])).trim();
  const tip = (await gitOk(repoRoot, ['rev-parse', `refs/heads/${branch}`])).trim();
  if ((await git(repoRoot, ['merge-base', '--is-ancestor', tip, head])).code === 0) {
    return { applied: true, branch, into, fastForward: false, alreadyApplied: true, files: [] };
  }
  const trial = await git(repoRoot, ['merge-tree', '--write-tree', '--name-only', '--no-messages', head, tip]);
  if (trial.code > 1) throw new Error(`git merge-tree failed: ${(trial.stderr || trial.stdout).trim()}`);
  const [tree, ...conflicted] = lines(trial.stdout);
  if (trial.code === 1) {
    const files = [...new Set(conflicted)].sort();
    if (options.keepConflicts) {
      const dirty = [...(await localChanges(repoRoot))].filter((p) => files.includes(p));
      if (!dirty.length) {
        await git(repoRoot, [...((await hasIdentity(repoRoot)) ? [] : FALLBACK_IDENTITY), 'merge', '--no-edit', '--no-verify', branch]);
        return { applied: false, branch, into, reason: 'content', files, leftInTree: true, message: conflictMessage(branch, into, files, true) };
      }
    }
    return { applied: false, branch, into, reason: 'content', files, leftInTree: false, message: conflictMessage(branch, into, files, false) };
  }
  const touched = lines(await gitOk(repoRoot, ['diff', '--name-only', '--no-renames', head, tree!]));
  const local = await localChanges(repoRoot);
  const inTheWay = touched.filter((p) => local.has(p)).sort();
  if (inTheWay.length) {
    return {
      applied: false,
      branch,
      into,
      reason: 'local-changes',
      files: inTheWay,
      leftInTree: false,
      message: `not applied: uncommitted changes in ${inTheWay.join(', ')} would be overwritten by ${branch}; commit or stash them first. Nothing was changed.`,
    };
  }
  const fastForward = (await git(repoRoot, ['merge-base', '--is-ancestor', head, tip])).code === 0;
  const merged = await git(repoRoot, [
    ...((await hasIdentity(repoRoot)) ? [] : FALLBACK_IDENTITY),
    'merge',
    '--no-edit',
    '--no-verify',
    '-m',
    `Apply ${branch} (Orchestr8 run ${runId})`,
    branch,
  ]);
  if (merged.code !== 0) {
    // Checked above, so only a race with the user's own edits gets here: undo whatever git started.
    await git(repoRoot, ['merge', '--abort']);
    throw new Error(`git merge of ${branch} failed and was undone: ${(merged.stderr || merged.stdout).trim()}`);
  }
  return { applied: true, branch, into, fastForward, alreadyApplied: false, files: touched };
}

function conflictMessage(branch: string, into: string, files: string[], leftInTree: boolean): string {
  return leftInTree
    ? `merging ${branch} into ${into} conflicts in ${files.join(', ')}: the merge is in the working tree with conflict markers; resolve and commit, ` +
        `or run git merge --abort`
    : `not applied: ${branch} conflicts with ${into} in ${files.join(', ')}. Nothing was changed.`;
}

/** Whether every commit of `branch` is in `into` (a ref). */
export async function isBranchMerged(repoRoot: string, branch: string, into: string): Promise<boolean> {
  return (await git(repoRoot, ['merge-base', '--is-ancestor', `refs/heads/${branch}`, into])).code === 0;
}

/** Removes a run's worktrees, its own and its tasks' (their uncommitted changes are lost), and prunes git's record of them; the branches stay. */
export async function removeRunWorktrees(repoRoot: string, delivery: RunDelivery): Promise<void> {
  for (const path of await runWorktrees(repoRoot, delivery)) {
    if (existsSync(path)) await gitOk(repoRoot, ['worktree', 'remove', '--force', path]);
  }
  await git(repoRoot, ['worktree', 'prune']);
}

/** Whether the run's work is already in the user's current branch or in its base branch (applied, or merged through a pull request). */
export async function isRunApplied(delivery: RunDelivery): Promise<boolean> {
  if (!delivery.repoRoot || !delivery.branch || !existsSync(delivery.repoRoot)) return false;
  if (!(await branchExists(delivery.repoRoot, delivery.branch))) return false;
  const targets = ['HEAD', ...(delivery.baseBranch ? [`refs/heads/${delivery.baseBranch}`] : [])];
  for (const target of targets) {
    if ((await git(delivery.repoRoot, ['merge-base', '--is-ancestor', `refs/heads/${delivery.branch}`, target])).code === 0) return true;
  }
  return false;
}

/**
 * The git worktrees that belong to a run: its own, and any whose folder is named after it
 * (`<run worktree>-<task>`, `<run worktree>/…`), which is where per-task worktrees live.
 */
async function runWorktrees(repoRoot: string, delivery: RunDelivery): Promise<string[]> {
  if (!delivery.worktree) return [];
  const own = resolve(delivery.worktree);
  const out = await gitOk(repoRoot, ['worktree', 'list', '--porcelain']);
  const found: string[] = [];
  for (const line of lines(out)) {
    if (!line.startsWith('worktree ')) continue;
    const path = resolve(line.slice('worktree '.length));
    if (path === own || path.startsWith(`${own}-`) || path.startsWith(`${own}${sep}`)) found.push(path);
  }
  if (!found.includes(own) && existsSync(own)) found.push(own);
  return found;
}

/**
 * Removes a run's worktrees (uncommitted changes in them are lost), its branch, and the branch it
 * pushed (`pushedTo`), which also closes a pull request opened from it. Asking first is the
 * caller's job. Running runs are refused by the callers: their tasks still write there.
 */
export async function discardRun(runId: string, delivery: RunDelivery | undefined, options: { remote?: boolean } = {}): Promise<DiscardOutcome> {
  const { repoRoot, branch } = branchOf(runId, delivery);
  const outcome: DiscardOutcome = { worktrees: [], notes: [] };
  for (const path of await runWorktrees(repoRoot, delivery!)) {
    const r = await git(repoRoot, ['worktree', 'remove', '--force', path]);
    if (r.code !== 0 && existsSync(path)) outcome.notes.push(`could not remove worktree ${path}: ${r.stderr.trim()}`);
    else outcome.worktrees.push(path);
  }
  await git(repoRoot, ['worktree', 'prune']);
  if (await branchExists(repoRoot, branch)) {
    if ((await currentBranch(repoRoot)) === branch) {
      outcome.notes.push(`branch ${branch} is checked out in ${repoRoot}: kept`);
    } else {
      const r = await git(repoRoot, ['branch', '-D', branch]);
      if (r.code === 0) outcome.branch = branch;
      else outcome.notes.push(`could not delete branch ${branch}: ${r.stderr.trim()}`);
    }
  }
  // Branches of tasks whose merge conflicted (`<branch>--<task>`) are the run's too.
  for (const taskBranch of lines((await git(repoRoot, ['for-each-ref', '--format=%(refname:short)', `refs/heads/${branch}--*`])).stdout)) {
    const r = await git(repoRoot, ['branch', '-D', taskBranch]);
    if (r.code !== 0) outcome.notes.push(`could not delete branch ${taskBranch}: ${r.stderr.trim()}`);
  }
  const remote = delivery?.pushedTo;
  if (remote && options.remote !== false) {
    const r = await git(repoRoot, ['push', '--no-verify', '--porcelain', remote, `:refs/heads/${branch}`]);
    if (r.code === 0) outcome.remoteBranch = `${remote}/${branch}`;
    else outcome.notes.push(`could not delete ${branch} on ${remote}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  }
  return outcome;
}
