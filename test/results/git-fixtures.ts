import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs real git with a fixed identity, so fixtures never depend on the machine's config. */
export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Fixture',
      GIT_AUTHOR_EMAIL: 'fixture@example.com',
      GIT_COMMITTER_NAME: 'Fixture',
      GIT_COMMITTER_EMAIL: 'fixture@example.com',
    },
  }).trim();
}

export interface RepoFixture {
  root: string;
  /** The project repository (a normal clone with one commit on `main`). */
  repo: string;
  /** A bare repository acting as `origin`. */
  remote: string;
  dispose(): void;
}

/** A temp folder with a bare remote and a clone of it holding one commit on `main`. */
export function makeRepo(options: { remote?: boolean } = {}): RepoFixture {
  const root = mkdtempSync(join(tmpdir(), 'o8-git-'));
  const repo = join(root, 'project');
  const remote = join(root, 'remote.git');
  sh(root, 'init', '-q', '-b', 'main', repo);
  writeFileSync(join(repo, 'README.md'), '# project\n');
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-q', '-m', 'initial');
  if (options.remote !== false) {
    sh(root, 'init', '-q', '--bare', '-b', 'main', remote);
    sh(repo, 'remote', 'add', 'origin', remote);
    sh(repo, 'push', '-q', 'origin', 'main');
  }
  return { root, repo, remote, dispose: () => rmSync(root, { recursive: true, force: true }) };
}
