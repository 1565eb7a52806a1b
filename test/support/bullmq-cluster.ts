import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/core/engine/engine.ts';
import type { RunStatus } from '../../src/core/engine/engine-api.ts';
import { LineProcess } from './line-process.ts';
import { RedisServer, type RedisServerOptions } from './redis-server.ts';

const cliEntry = fileURLToPath(new URL('../../src/cli/cli.ts', import.meta.url));
const coordinatorEntry = fileURLToPath(new URL('./coordinator-process.ts', import.meta.url));

/**
 * Everything a BullMQ-mode test needs, all real: a private redis-server, a project
 * folder, a state folder, and `orchestr8 worker` / coordinating engine processes
 * that the test can SIGKILL.
 */
export class BullmqCluster {
  readonly processes: LineProcess[] = [];

  private constructor(
    readonly redis: RedisServer,
    readonly root: string,
  ) {}

  static async start(redis: RedisServerOptions = {}): Promise<BullmqCluster> {
    const root = mkdtempSync(path.join(tmpdir(), 'o8-bullmq-'));
    mkdirSync(path.join(root, 'project'));
    return new BullmqCluster(await RedisServer.start(redis), root);
  }

  get project(): string {
    return path.join(this.root, 'project');
  }

  get stateDir(): string {
    return path.join(this.root, 'state');
  }

  writeWorkflow(name: string, yaml: string): string {
    const file = path.join(this.root, `${name}.yaml`);
    writeFileSync(file, yaml);
    return file;
  }

  /** Starts the real `orchestr8 worker` command and waits until it takes jobs. */
  async worker(name: string, ...flags: string[]): Promise<LineProcess> {
    const p = LineProcess.start(name, cliEntry, ['worker', '--redis', this.redis.url, '--lock-duration', '2000', ...flags]);
    this.processes.push(p);
    await p.waitFor(/ready on/);
    return p;
  }

  /** Starts the coordinating engine (launching `workflowFile` if given) and waits until it is up. */
  async coordinator(name: string, workflowFile?: string): Promise<LineProcess> {
    const args = [this.stateDir, this.project, this.redis.url, ...(workflowFile ? [workflowFile] : [])];
    const p = LineProcess.start(name, coordinatorEntry, args);
    this.processes.push(p);
    await p.waitFor(/^ready$/);
    return p;
  }

  /** The run as the state of record has it (opens the state folder once the coordinator is gone). */
  async status(runId: string): Promise<RunStatus & { logs: Record<string, string> }> {
    const engine = await Engine.open({ stateDir: this.stateDir, cwd: this.project });
    try {
      const status = await engine.status(runId);
      const logs: Record<string, string> = {};
      for (const t of status.tasks) logs[t.key] = await engine.log(t.id);
      return { ...status, logs };
    } finally {
      await engine.close();
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    await this.redis.dispose();
    rmSync(this.root, { recursive: true, force: true });
  }
}
