import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import type { TaskOutput } from '../runners/task-runner.ts';
import { TaskError } from '../runners/task-runner.ts';
import { errorMessage } from '../util/logger.ts';
import type { RunSource } from '../model/run-delivery.ts';
import type { TaskJobData } from './task-job.ts';

/** Where one job's task runs on this worker, and what to do with its changes after. */
export interface Workspace {
  cwd: string;
  /** After a successful attempt: publish what the task changed (push its branch). */
  finish(output: TaskOutput): Promise<void>;
}

export interface WorkspaceResolver {
  prepare(job: TaskJobData, signal: AbortSignal): Promise<Workspace>;
}

export interface CheckoutOptions {
  /** Folder for clones and worktrees (default: ~/.orchestr8/worker). */
  workdir?: string;
  /**
   * `auto` (default): run in the run's own folder when this machine has it (same
   * machine or a shared filesystem), else check out the run's source.
   * `always`: always work in a checkout of our own (a worker on another machine).
   */
  checkout?: 'auto' | 'always';
}

const PUSH_TRIES = 3;

/**
 * Gives each task a folder on this worker. A worker on another machine clones (once)
 * and fetches the run's remote, makes a worktree per task at the tip of the run's
 * branch (or its base commit), and after the task commits and pushes what changed, so
 * the next task, on whatever machine, starts from it.
 */
export class CheckoutWorkspaces implements WorkspaceResolver {
  private readonly workdir: string;
  private readonly mirrors = new Map<string, Promise<string>>();

  constructor(private readonly options: CheckoutOptions = {}) {
    this.workdir = options.workdir ?? path.join(os.homedir(), '.orchestr8', 'worker');
  }

  async prepare(job: TaskJobData, signal: AbortSignal): Promise<Workspace> {
    const inPlace = this.options.checkout !== 'always' && existsSync(job.cwd);
    if (inPlace) return { cwd: job.cwd, finish: async () => {} };
    if (!job.source) {
      throw new TaskError(
        `folder ${job.cwd} does not exist on worker ${os.hostname()}, and run ${job.run.id} records no git source to check out ` +
          `(launch it from a git repository with a remote "origin", or run this worker where ${job.cwd} exists)`,
        false,
      );
    }
    signal.throwIfAborted();
    return this.checkout(job, job.source);
  }

  private async checkout(job: TaskJobData, source: RunSource): Promise<Workspace> {
    const mirror = await this.mirror(source.remote);
    const git = simpleGit(mirror);
    // The branch holds what earlier tasks of the run pushed; before the first push, the base commit.
    let start = source.baseCommit;
    try {
      await git.fetch(['origin', `+refs/heads/${source.branch}:refs/remotes/origin/${source.branch}`]);
      start = `refs/remotes/origin/${source.branch}`;
    } catch {
      // no such branch yet
    }
    try {
      await git.raw(['cat-file', '-e', `${source.baseCommit}^{commit}`]);
    } catch {
      throw new TaskError(`base commit ${source.baseCommit} of run ${job.run.id} is not in ${redact(source.remote)} (pushed?)`, false);
    }
    const dir = path.join(this.workdir, 'runs', job.run.id, `${job.task.key}-${job.task.attempt}`);
    if (existsSync(dir)) {
      await git.raw(['worktree', 'remove', '--force', dir]).catch(() => rmSync(dir, { recursive: true, force: true }));
      await git.raw(['worktree', 'prune']);
    }
    mkdirSync(path.dirname(dir), { recursive: true });
    await git.raw(['worktree', 'add', '--detach', dir, start]);
    const task = job.task;
    return {
      cwd: dir,
      finish: async () => {
        const wt = simpleGit(dir);
        const status = await wt.status();
        if (status.isClean()) return;
        await wt.add(['-A']);
        await wt.addConfig('user.name', 'orchestr8 worker', false, 'local').addConfig('user.email', 'worker@orchestr8.invalid', false, 'local');
        await wt.commit(`orchestr8: ${task.name} (${task.id})`);
        await pushWithRebase(wt, source);
      },
    };
  }

  /** One clone per remote on this machine, fetched before each checkout. */
  private mirror(remote: string): Promise<string> {
    let pending = this.mirrors.get(remote);
    if (!pending) {
      const dir = path.join(this.workdir, 'repos', createHash('sha1').update(remote).digest('hex').slice(0, 16));
      pending = (async () => {
        try {
          if (!existsSync(path.join(dir, '.git'))) {
            mkdirSync(path.dirname(dir), { recursive: true });
            await simpleGit().clone(remote, dir, ['--no-checkout']);
          }
          return dir;
        } catch (error) {
          this.mirrors.delete(remote);
          throw new TaskError(
            `worker ${os.hostname()} cannot clone the run's source ${redact(remote)}: ${firstLine(errorMessage(error))}. ` +
              'Give this machine read and push access to it (an SSH key or credential helper), or run the worker where the project folder exists.',
            false,
          );
        }
      })();
      this.mirrors.set(remote, pending);
    }
    return pending.then(async (dir) => {
      await simpleGit(dir)
        .fetch(['origin', '--prune'])
        .catch((error) => {
          throw new TaskError(`worker ${os.hostname()} cannot fetch ${redact(remote)}: ${firstLine(errorMessage(error))}`, false);
        });
      return dir;
    });
  }
}

/** Tasks of one run on several machines push to one branch: on a race, rebase on the winner and push again. */
async function pushWithRebase(git: ReturnType<typeof simpleGit>, source: RunSource): Promise<void> {
  for (let tryNo = 1; ; tryNo++) {
    try {
      await git.push('origin', `HEAD:refs/heads/${source.branch}`);
      return;
    } catch (error) {
      if (tryNo >= PUSH_TRIES) {
        throw new TaskError(`could not push branch ${source.branch} to ${redact(source.remote)}: ${firstLine(errorMessage(error))}`);
      }
      await git.fetch(['origin', `+refs/heads/${source.branch}:refs/remotes/origin/${source.branch}`]);
      await git.rebase([`refs/remotes/origin/${source.branch}`]);
    }
  }
}

function redact(remote: string): string {
  return remote.replace(/\/\/[^/@]*@/, '//***@');
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? text;
}
