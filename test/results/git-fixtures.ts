import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

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

/**
 * A repository whose config.txt two tasks will both change, and `edit(name, other)`: a shell
 * command that changes its line, then waits until task `other` has too, so both run at once.
 * Disposed after the test.
 */
export function clashRepo(): { fx: RepoFixture; edit: (name: string, other: string) => string } {
  const fx = makeRepo({ remote: false });
  after(() => fx.dispose());
  writeFileSync(join(fx.repo, 'config.txt'), 'mode = old\n');
  sh(fx.repo, 'add', '-A');
  sh(fx.repo, 'commit', '-q', '-m', 'config');
  const barrier = mkdtempSync(join(tmpdir(), 'o8-barrier-'));
  after(() => rmSync(barrier, { recursive: true, force: true }));
  const edit = (name: string, other: string) =>
    `sed -i 's/old/${name}/' config.txt && touch ${barrier}/${name} && for i in $(seq 600); do test -e ${barrier}/${other} && break; sleep 0.05; done`;
  return { fx, edit };
}
