import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { crashPoint } from '../util/crash-points.ts';
import { errorMessage } from '../util/logger.ts';
import { branchExists, git, identityArgs, listWorktrees } from './git-workspace.ts';

/**
 * A task's work on its own branch, merged into the run's branch when it completes.
 *
 * The run's branch ref is the truth and is only ever moved in one step (`update-ref` with the
 * value it is expected to have), to a commit that already holds the whole merge: a kill at any
 * moment leaves it either before the task's work or after all of it, never half-merged. The
 * run's worktree is a checkout of that ref, brought up to date after the move (again if a kill
 * came in between). A task's commit carries the trailer `Orchestr8-Task: <task id>`, which is
 * how a restarted owner or a retry finds work that was already done.
 */

export const TASK_TRAILER = 'Orchestr8-Task';

/** The branch a task works on: beside the run's (`orchestr8/x-abc1234--edit`), not below it (a ref cannot also be a folder). */
export function taskBranchName(runBranch: string, key: string): string {
  const slug = key.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'task';
  return `${runBranch}--${slug}`;
}

/** Commit message of a task's work: which task (subject and trailer) and what it is. */
export function taskCommitMessage(key: string, what: string, body: string, taskId: string, followUps = 0): string {
  return `${key}: ${what}\n\n${body}\n\n${TASK_TRAILER}: ${taskMark(taskId, followUps)}`;
}

/** The trailer's value: the task, and which Continue… round did the work (a follow-up's work is new work). */
function taskMark(taskId: string, followUps: number): string {
  return followUps > 0 ? `${taskId} follow-up ${followUps}` : taskId;
}

async function sha(repoRoot: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(repoRoot).raw(['rev-parse', '-q', '--verify', `${ref}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether commit `a` is `b` or one of its ancestors. */
async function isAncestor(repoRoot: string, a: string, b: string): Promise<boolean> {
  // simple-git resolves on a silent non-zero exit, so `merge-base --is-ancestor` cannot be read: count instead.
  return (await git(repoRoot).raw(['rev-list', '--count', `${b}..${a}`])).trim() === '0';
}

/** The worktree that has `branch` checked out, if any. */
export async function worktreeOfBranch(repoRoot: string, branch: string): Promise<string | undefined> {
  return (await listWorktrees(repoRoot)).find((w) => w.branch === branch)?.path;
}

/**
 * Where a task's earlier work is: `merged` when the run's branch holds its commit (merged by the
 * engine before a crash, or by hand after a conflict), `committed` when only the task's branch
 * does (the owner died between the commit and the merge, or the merge conflicted). `baseSha`
 * bounds the search to the run's own commits.
 */
export async function findTaskWork(
  repoRoot: string,
  baseSha: string,
  runBranch: string,
  taskBranch: string,
  taskId: string,
  followUps = 0,
): Promise<'merged' | 'committed' | undefined> {
  const g = git(repoRoot);
  const line = `^${TASK_TRAILER}: ${taskMark(taskId, followUps).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const find = async (branch: string) =>
    (await branchExists(g, branch)) && (await g.raw(['rev-list', '-1', '-E', `--grep=${line}`, `${baseSha}..refs/heads/${branch}`])).trim() !== '';
  if (await find(runBranch)) return 'merged';
  if (await find(taskBranch)) return 'committed';
  return undefined;
}

/**
 * Gives a task a worktree at `dir` on a new branch `branch` made from the run's branch as it is
 * now. Idempotent: a worktree already at `dir` on `branch` (an interrupted attempt resuming) is
 * kept with its files; one of an earlier attempt is removed along with the branch, which holds
 * no work of the task (else it would have been found done).
 */
export async function createTaskWorktree(repoRoot: string, dir: string, branch: string, runBranch: string): Promise<void> {
  dir = resolve(dir);
  const g = git(repoRoot);
  const worktrees = await listWorktrees(repoRoot);
  const here = worktrees.find((w) => resolve(w.path) === dir);
  if (here?.branch === branch && existsSync(dir)) return;
  for (const w of worktrees) {
    if (resolve(w.path) === dir || w.branch === branch) await g.raw(['worktree', 'remove', '--force', w.path]).catch(() => {});
  }
  await rm(dir, { recursive: true, force: true }); // what a kill inside `worktree add` left
  await g.raw(['worktree', 'prune']);
  if (await branchExists(g, branch)) await g.raw(['branch', '-D', branch]);
  await mkdir(dirname(dir), { recursive: true });
  await g.raw(['worktree', 'add', '-q', '-b', branch, dir, `refs/heads/${runBranch}`]);
}

/** Removes a task's worktree (if any) and its branch, once its work is in the run's branch or it holds none. */
export async function removeTaskWorktree(repoRoot: string, branch: string): Promise<void> {
  const g = git(repoRoot);
  const worktree = await worktreeOfBranch(repoRoot, branch);
  if (worktree) await g.raw(['worktree', 'remove', '--force', worktree]).catch(() => {});
  if (worktree) await rm(worktree, { recursive: true, force: true });
  await g.raw(['worktree', 'prune']);
  if (await branchExists(g, branch)) await g.raw(['branch', '-D', branch]);
}

/** Files a merge in progress in `worktree` still has unresolved. */
export async function unmergedFiles(worktree: string): Promise<string[]> {
  const out = await git(worktree).raw(['diff', '--name-only', '--diff-filter=U']);
  return [...new Set(out.split('\n').filter(Boolean))];
}

/** Whether `worktree` is in the middle of a merge (`MERGE_HEAD` exists). */
export async function mergeInProgress(worktree: string): Promise<boolean> {
  return (await sha(worktree, 'MERGE_HEAD')) !== undefined;
}

/**
 * Files whose staged changes add conflict markers: a merge "resolved" by staging the files as
 * git left them. Committing those would put the markers into the run's branch.
 */
export async function filesWithConflictMarkers(worktree: string): Promise<string[]> {
  const g = git(worktree);
  await g.raw(['add', '-A']);
  const diff = await g.raw(['diff', '--cached', '--no-color', '--no-ext-diff', '-U0', 'HEAD']);
  const files = new Set<string>();
  let file = '';
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) file = line.replace(/^\+\+\+ (b\/)?/, '');
    else if (/^\+(<{7}|>{7}) /.test(line) || line === '+=======') files.add(file);
  }
  return [...files];
}

export type MergeOutcome = { merged: true; head: string } | { merged: false; files: string[] };

/**
 * Merges `taskBranch` into `runBranch` without touching any worktree until the result is whole:
 * a fast-forward when the run's branch has not moved since the task started, else a merge
 * commit built by `merge-tree` and `commit-tree`. A conflict changes nothing and names the
 * files. Already merged (by a previous owner, or by hand) is a success. Callers serialize
 * merges per run.
 */
export async function mergeTaskBranch(options: {
  repoRoot: string;
  runWorktree: string;
  runBranch: string;
  taskBranch: string;
  message: string;
}): Promise<MergeOutcome> {
  const { repoRoot, runWorktree, runBranch, taskBranch } = options;
  const g = git(repoRoot);
  const runHead = await sha(repoRoot, `refs/heads/${runBranch}`);
  const taskHead = await sha(repoRoot, `refs/heads/${taskBranch}`);
  if (!runHead) throw new Error(`the run's branch ${runBranch} is gone`);
  if (!taskHead) throw new Error(`the task's branch ${taskBranch} is gone`);
  if (await isAncestor(repoRoot, taskHead, runHead)) {
    await syncWorktree(runWorktree);
    return { merged: true, head: runHead };
  }
  let next = taskHead;
  if (!(await isAncestor(repoRoot, runHead, taskHead))) {
    const lines = (await g.raw(['merge-tree', '--write-tree', '--name-only', '--no-messages', runHead, taskHead])).split('\n').filter(Boolean);
    const [tree, ...files] = lines;
    if (files.length) return { merged: false, files: [...new Set(files)] };
    if (!tree) throw new Error(`git merge-tree gave no tree for ${taskBranch} into ${runBranch}`);
    next = (await g.raw([...(await identityArgs(repoRoot)), 'commit-tree', tree, '-p', runHead, '-p', taskHead, '-m', options.message])).trim();
  }
  crashPoint('merge.prepared');
  // Moves only if nobody moved it meanwhile (a manual merge): then the next attempt merges again.
  // Logged even where reflogs are off: `catchUpWorktree` finds the value it moved from as `@{1}`.
  await g.raw(['update-ref', '--create-reflog', '-m', `orchestr8: merge ${taskBranch}`, `refs/heads/${runBranch}`, next, runHead]);
  crashPoint('merge.ref-updated');
  await syncWorktree(runWorktree);
  return { merged: true, head: next };
}

/**
 * Brings a worktree's files and index up to its branch after the ref moved under it. A one-tree
 * `read-tree -m -u` keeps local changes the move does not touch; after a kill in the middle of
 * an update (files half written, the index not), that refuses, and the checkout is reset to the
 * branch: the run's worktree holds nothing of its own that is not committed.
 */
export async function syncWorktree(worktree: string): Promise<void> {
  const g = git(worktree);
  try {
    await g.raw(['read-tree', '-m', '-u', 'HEAD']);
  } catch {
    await g.raw(['reset', '-q', '--hard', 'HEAD']);
  }
}

/**
 * Brings a run's worktree up to its branch when a kill came between a merge moving the branch and
 * the worktree's sync (`merge.ref-updated`): its index still holds the commit the branch moved
 * from. Anything committed there before the merge is resumed (a task whose merge had finished but
 * whose completion was not durable, completed again; a task sharing the run's worktree) would
 * commit that stale checkout, taking the merged work out of the branch again, and the tasks that
 * need it would start from a branch without it. Only that case is synced: an index holding
 * anything else (changes staged by hand, a merge in progress) is left as it is. True when synced.
 */
export async function catchUpWorktree(worktree: string): Promise<boolean> {
  const read = async (args: string[]) => {
    try {
      return (await git(worktree).raw(args)).trim();
    } catch {
      return ''; // write-tree: the index has unmerged entries
    }
  };
  const tree = (ref: string) => read(['rev-parse', '-q', '--verify', `${ref}^{tree}`]);
  const index = await read(['write-tree']);
  if (!index || index === (await tree('HEAD')) || index !== (await tree('@{1}'))) return false;
  await syncWorktree(worktree);
  return true;
}

/**
 * Removes git's lock files that a killed git left in a worktree (its index) — called once per
 * worktree by a new owner, before its first git command there, when no git of ours can be running.
 */
export async function clearStaleIndexLock(worktree: string): Promise<boolean> {
  const gitDir = (await git(worktree).raw(['rev-parse', '--absolute-git-dir'])).trim();
  const lock = join(gitDir, 'index.lock');
  if (!existsSync(lock)) return false;
  await unlink(lock);
  return true;
}

/**
 * Leaves the conflict where the user (or a resolving agent) can work on it: the run's branch is
 * merged into the task's, in the task's worktree, which keeps the conflicted files with their
 * markers and a merge in progress. Does nothing when one is in progress already.
 */
export async function startConflictMerge(taskWorktree: string, runBranch: string): Promise<void> {
  if (await mergeInProgress(taskWorktree)) return;
  try {
    await git(taskWorktree).raw([...(await identityArgs(taskWorktree)), 'merge', '--no-ff', '--no-edit', '--no-verify', `refs/heads/${runBranch}`]);
  } catch (error) {
    // A conflict is why we are here; anything else (no merge left in progress) is a real failure.
    if (!(await mergeInProgress(taskWorktree))) throw new Error(`could not start the merge in ${taskWorktree}: ${errorMessage(error)}`);
  }
}

/** The conflict hunks of `files` in `worktree`, as text an agent can be asked to resolve. */
export async function conflictHunks(worktree: string, files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const text = await readFile(join(worktree, file), 'utf8').catch(() => '');
    const hunks: string[] = [];
    let hunk: string[] | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('<<<<<<< ')) hunk = [];
      if (hunk) hunk.push(line);
      if (hunk && line.startsWith('>>>>>>> ')) {
        hunks.push(hunk.join('\n'));
        hunk = undefined;
      }
    }
    parts.push(`### ${file}\n${hunks.length ? hunks.join('\n...\n') : '(no conflict markers: a file deleted on one side and changed on the other)'}`);
  }
  return parts.join('\n\n');
}
