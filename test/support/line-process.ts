import { spawn, type ChildProcess } from 'node:child_process';
import { procStat } from './proc.ts';
import { until } from './until.ts';

/**
 * A child Node process (TypeScript via tsx) whose stdout lines a test can wait for.
 * Its stderr is kept for failure messages.
 */
export class LineProcess {
  readonly lines: string[] = [];
  private stderr = '';
  private waiters: { match: RegExp; resolve(line: string): void }[] = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.lines.push(line);
        if (process.env.O8_TEST_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        this.waiters = this.waiters.filter((w) => (w.match.test(line) ? (w.resolve(line), false) : true));
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (process.env.O8_TEST_VERBOSE) process.stderr.write(`[${name}!] ${d}`);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv = {}): LineProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    return new LineProcess(child, name);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get errorOutput(): string {
    return this.stderr;
  }

  /** Resolves with the first line (seen already or coming) matching; rejects after `timeoutMs` or on exit. */
  waitFor(match: RegExp, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find((l) => match.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no line matching ${match} within ${timeoutMs} ms.\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`)),
        timeoutMs,
      );
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before a line matching ${match}.\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`));
      });
      this.waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /**
   * Stops the process (SIGSTOP) until `thaw()`: frozen, it does nothing at all, not even reconnect
   * to a server the test is looking at. Resolves once the kernel reports it stopped.
   */
  async freeze(): Promise<void> {
    this.child.kill('SIGSTOP');
    await until(`${this.name} to stop`, () => procStat(this.pid)?.state === 'T', 5000);
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
