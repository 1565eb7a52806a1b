import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Durability of the Redis under test: `appendfsync always` is comparable to our fsync per group commit. */
export type AppendFsync = 'always' | 'everysec' | 'no';

export interface RedisServerOptions {
  /** Append-only file on (the default): what a restart must not lose. */
  appendonly?: boolean;
  appendfsync?: AppendFsync;
}

/**
 * Why a BullMQ test cannot run here, or undefined when it can. Tests pass this to
 * `{ skip }` so a missing tool is reported loudly instead of silently passing.
 */
export function redisMissingReason(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const reason = 'SKIPPED: redis-server is not installed; run `bash scripts/setup-redis.sh`';
    process.stderr.write(`\n*** ${reason} ***\n\n`);
    return reason;
  }
  return undefined;
}

/** A free TCP port on loopback (asks the kernel, then releases it for redis-server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private redis-server on a free loopback port with a password and its own temp
 * folder, so tests never touch a system Redis and each other. `restart()` keeps the
 * port, password and data folder, as a real Redis restart would.
 */
export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    readonly password: string,
    readonly dir: string,
    private readonly options: Required<RedisServerOptions>,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), 'o8-redis-'));
    const server = new RedisServer(await freePort(), randomBytes(12).toString('hex'), dir, {
      appendonly: options.appendonly ?? true,
      appendfsync: options.appendfsync ?? 'always',
    });
    await server.launch();
    return server;
  }

  /** `redis://` URL with the password, for BullMQ/ioredis and `--redis`. */
  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--requirepass',
      this.password,
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      this.options.appendfsync,
      '--daemonize',
      'no',
      '--logfile',
      '',
      '--loglevel',
      'warning',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start (code ${child.exitCode}): ${output.trim()}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${this.port} within 10 s: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private ping(): Promise<boolean> {
    const cli = spawnSync('redis-cli', ['-p', String(this.port), '--no-auth-warning', '-a', this.password, 'ping'], {
      encoding: 'utf8',
      timeout: 2000,
    });
    return Promise.resolve(cli.stdout?.trim() === 'PONG');
  }

  /** Runs one redis command through redis-cli (e.g. `CONFIG SET appendfsync everysec`). */
  cli(...command: string[]): string {
    const cli = spawnSync('redis-cli', ['-p', String(this.port), '--no-auth-warning', '-a', this.password, ...command], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (cli.status !== 0) throw new Error(`redis-cli ${command.join(' ')}: ${cli.stderr}`);
    return cli.stdout.trim();
  }

  /** Stops the server: SIGTERM is a clean shutdown, SIGKILL a crash (only fsynced data survives). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  /** Stops and starts again on the same port and data folder. */
  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL', downMs = 0): Promise<void> {
    await this.stop(signal);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** Stops the server and removes its data folder. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
