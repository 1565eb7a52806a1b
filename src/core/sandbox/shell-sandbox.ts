import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as SandboxRuntime from '@anthropic-ai/sandbox-runtime';
import { DEFAULT_ALLOWED_DOMAINS, commandRules, type SandboxPolicy } from './sandbox-policy.ts';

/**
 * Whether commands can be confined here, and by what; `warnings`: what the runtime cannot
 * enforce here (no seccomp helper: Unix sockets open); `reason` says what to install when not.
 */
export type SandboxProbe = { available: true; mechanism: 'bubblewrap' | 'seatbelt'; warnings: string[] } | { available: false; reason: string };

/** A shell command ready to spawn: inside the sandbox, or as is. `release` after it exited. */
export interface PreparedCommand {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  release(): Promise<void>;
}

type Runtime = typeof SandboxRuntime;

/**
 * Runs shell commands inside `@anthropic-ai/sandbox-runtime` (bubblewrap on Linux, Seatbelt on
 * macOS): writes only in the task folder, a private temp folder and tool caches; the user's
 * secrets unreadable; network only to the allow-listed hosts through the runtime's proxy.
 *
 * The runtime is loaded on the first `probe` or `prepare`, never at import, so nothing of it
 * costs activation time. Its proxies (and socat bridges) run only while a sandboxed command
 * does: they would otherwise keep the process alive (a CLI run would never exit). The runtime
 * is process-wide (one proxy, one network allow-list), hence one `ShellSandbox` per process:
 * `sharedShellSandbox`.
 */
export class ShellSandbox {
  /** What its commands may do beyond their task folder (Claude Code's own sandbox is given the same). */
  readonly policy: SandboxPolicy;
  private probing: Promise<SandboxProbe> | undefined;
  private runtime: Runtime | undefined;
  /** Commands between `prepare` and `release`. */
  private running = 0;
  /** The runtime started for the commands running now; unset while none runs. */
  private session: Promise<void> | undefined;
  /** The last stop of the runtime; a new session starts after it. */
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    policy: Partial<SandboxPolicy> = {},
    private readonly load: () => Promise<Runtime> = () => import('@anthropic-ai/sandbox-runtime'),
  ) {
    this.policy = {
      allowedDomains: policy.allowedDomains ?? DEFAULT_ALLOWED_DOMAINS,
      allowWrite: policy.allowWrite ?? [],
      home: policy.home ?? homedir(),
    };
  }

  /** Loads the runtime and checks it can start here, once; later calls return the same answer. */
  probe(): Promise<SandboxProbe> {
    this.probing ??= this.check();
    return this.probing;
  }

  private async check(): Promise<SandboxProbe> {
    if (process.platform === 'win32') {
      return { available: false, reason: 'Windows is not supported yet (the runtime needs an elevated one-time install there)' };
    }
    if (process.platform !== 'linux' && process.platform !== 'darwin') return { available: false, reason: `no sandbox for ${process.platform}` };
    let runtime: Runtime;
    try {
      runtime = await this.load();
    } catch (error) {
      return { available: false, reason: `@anthropic-ai/sandbox-runtime did not load: ${(error as Error).message}` };
    }
    const { SandboxManager } = runtime;
    if (!SandboxManager.isSupportedPlatform()) return { available: false, reason: 'this platform is not supported by the sandbox runtime (WSL 1?)' };
    const deps = await SandboxManager.checkDependenciesAsync();
    if (deps.errors.length > 0) {
      const hint = process.platform === 'linux' ? ' (Debian/Ubuntu: apt-get install bubblewrap socat ripgrep)' : ' (brew install ripgrep)';
      return { available: false, reason: `${deps.errors.join(', ')}${hint}` };
    }
    this.runtime = runtime;
    // Started once here so that a runtime that cannot start (say, root without CAP_SETFCAP) is "unavailable", not a failing command.
    try {
      await this.acquire();
    } catch (error) {
      this.runtime = undefined;
      return { available: false, reason: `the sandbox did not start: ${(error as Error).message}` };
    }
    await this.releaseOne();
    return { available: true, mechanism: process.platform === 'darwin' ? 'seatbelt' : 'bubblewrap', warnings: deps.warnings };
  }

  private async acquire(): Promise<void> {
    const { SandboxManager } = this.runtime!;
    this.running++;
    this.session ??= this.stopping.then(() =>
      SandboxManager.initialize({
        network: { allowedDomains: [...this.policy.allowedDomains], deniedDomains: [] },
        // Per command (see `prepare`); this is the floor when a command passes none.
        filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
      }),
    );
    try {
      await this.session;
    } catch (error) {
      await this.releaseOne();
      throw error;
    }
  }

  private async releaseOne(): Promise<void> {
    if (--this.running > 0) return;
    const { SandboxManager } = this.runtime!;
    const session = this.session;
    this.session = undefined;
    this.stopping = (async () => {
      await session?.catch(() => {});
      // Removes the mount points bubblewrap left on the host; only safe while no sandbox runs.
      SandboxManager.cleanupAfterCommand();
      await SandboxManager.reset();
    })();
    await this.stopping;
  }

  /**
   * Wraps `command` for `/bin/sh` run in `cwd`. The command gets a temp folder of its own
   * (TMPDIR), removed on `release`: the shared /tmp is not writable, so one task cannot plant
   * files for another. Throws when `probe` said the sandbox is unavailable.
   */
  async prepare(command: string, cwd: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<PreparedCommand> {
    const probe = await this.probe();
    if (!probe.available || !this.runtime) throw new Error(`no sandbox: ${probe.available ? 'not started' : probe.reason}`);
    const { SandboxManager } = this.runtime;
    await this.acquire();
    const tmp = await mkdtemp(join(tmpdir(), 'orchestr8-sandbox-'));
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await rm(tmp, { recursive: true, force: true });
      await this.releaseOne();
    };
    try {
      const rules = commandRules(this.policy, cwd, tmp);
      // The runtime points TMPDIR at its own shared folder inside the sandbox; set ours inside, after it.
      const quoted = `'${tmp.replace(/'/g, `'\\''`)}'`;
      const wrapped = await SandboxManager.wrapWithSandbox(
        `TMPDIR=${quoted} TMP=${quoted} TEMP=${quoted}; export TMPDIR TMP TEMP; ${command}`,
        '/bin/sh',
        { filesystem: { allowWrite: rules.allowWrite, denyRead: rules.denyRead, denyWrite: rules.denyWrite } },
        signal,
      );
      return { file: '/bin/sh', args: ['-c', wrapped], env, release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Waits for the runtime to stop after the last command. */
  async dispose(): Promise<void> {
    await this.probing;
    await this.stopping;
  }
}

/** Spawns a shell command as is: where no sandbox is asked for or available. */
export function unconfined(command: string, env: NodeJS.ProcessEnv): PreparedCommand {
  return { file: '/bin/sh', args: ['-c', command], env, release: async () => {} };
}

let shared: ShellSandbox | undefined;

/**
 * The process's sandbox. The first caller's policy wins: the runtime has one network
 * allow-list per process (the settings are read once, when the engine starts).
 */
export function sharedShellSandbox(policy?: Partial<SandboxPolicy>): ShellSandbox {
  shared ??= new ShellSandbox(policy);
  return shared;
}
