import { spawn, type ChildProcess } from 'node:child_process';

/** `O8_PEERS_CPU_PROF=<dir>` profiles every child (the workers) with `--cpu-prof` into that folder. */
const profile = process.env.O8_PEERS_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.O8_PEERS_CPU_PROF}`] : [];

/** Starts a TypeScript entry point in its own Node process (via tsx) and waits until it prints `ready`. */
export async function startReadyChild(entry: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${entry} exited (${code}) before it was ready: ${out}`)));
  });
  return child;
}

/** SIGTERM, then wait for exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}
