import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import { isTerminal } from '../../src/core/model/task-state.ts';
import { StateStore } from '../../src/core/store/state-store.ts';
import { tempDir } from '../support/temp-dir.ts';

const KILLS = Number(process.env.O8_CRASH_KILLS ?? 20);

interface Acked {
  type: string;
  id: string;
  state: string;
}

/** Runs the child until it has acknowledged some work, then SIGKILLs it (at random, or as a snapshot starts). */
function runAndKill(stateDir: string, cwd: string, duringSnapshot: boolean): Promise<{ acked: Acked[]; killedInSnapshot: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/crash-child.ts', stateDir, cwd], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: Acked[] = [];
    let buffer = '';
    let killedInSnapshot = false;
    let killing = false;
    let fallback: NodeJS.Timeout | undefined;
    const kill = (delay: number, inSnapshot = false) => {
      if (killing) return;
      killing = true;
      killedInSnapshot = inSnapshot;
      setTimeout(() => child.kill('SIGKILL'), delay);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (line.error) return reject(new Error(`child reported: ${String(line.error)}`));
        if (line.type) acked.push(line as unknown as Acked);
        // Timing starts once the child is doing work (its startup is slow and varies on a loaded machine).
        if (line.ready) fallback = setTimeout(() => kill(0), 5000);
        if (!duringSnapshot && acked.length === 20) kill(Math.random() * 400);
        if (duringSnapshot && line.snapshot && acked.length > 50) kill(Math.random() * 3, true);
      }
    });
    child.on('exit', () => {
      clearTimeout(fallback);
      resolve({ acked, killedInSnapshot });
    });
  });
}

test(`SIGKILL at ${KILLS} random moments loses no acknowledged transition and leaves nothing running`, { timeout: 240_000 }, async () => {
  const stateDir = tempDir('o8-crash-');
  const cwd = tempDir('o8-crash-cwd-');
  let inSnapshot = 0;
  let total = 0;
  for (let i = 0; i < KILLS; i++) {
    const { acked, killedInSnapshot } = await runAndKill(stateDir, cwd, i % 2 === 1);
    if (killedInSnapshot) inSnapshot++;
    total += acked.length;
    const reader = await StateStore.openReader(stateDir);
    try {
      const stored = new Map<string, number>();
      for (const e of reader.db.eventsAfter(0, 10_000_000)) {
        const key = `${e.type} ${e.taskId ?? e.runId}`;
        stored.set(key, (stored.get(key) ?? 0) + 1);
      }
      const seen = new Map<string, number>();
      for (const e of acked) {
        const key = `${e.type} ${e.id}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        assert.ok((stored.get(key) ?? 0) >= seen.get(key)!, `kill ${i}: acknowledged "${key}" is missing after the crash`);
        if (e.type === 'task.completed') assert.equal(reader.db.getTask(e.id)?.state, 'completed', `kill ${i}: ${e.id} completed, then lost`);
        if (e.type === 'workflow.launched') assert.ok(reader.db.getRun(e.id), `kill ${i}: launched run ${e.id} lost`);
      }
    } finally {
      await reader.close();
    }
  }
  assert.ok(total > KILLS * 20, `the children did real work before dying (${total} acknowledged transitions)`);
  assert.ok(inSnapshot >= Math.floor(KILLS / 4), `${inSnapshot} kills landed while a snapshot was being folded`);

  // Recovery: the next owner re-queues what the dead ones left running and finishes every run.
  const engine = await Engine.open({ stateDir, cwd, concurrency: 8 });
  try {
    // activeRunCount follows the disk: a run leaves it only once the batch finishing it is durable.
    for (let i = 0; i < 600 && engine.activeRunCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(engine.activeRunCount, 0, 'every run finished after recovery');
    const page = await engine.list({ limit: 100_000 });
    for (const run of page.runs) {
      const { tasks } = await engine.status(run.id);
      const story = () => `${JSON.stringify(run)}\n${tasks.map((t) => JSON.stringify(t)).join('\n')}`;
      assert.notEqual(run.state, 'running', `run ${run.id} left running:\n${story()}`);
      for (const task of tasks) assert.ok(isTerminal(task.state), `${task.id} left ${task.state}:\n${story()}`);
    }
  } finally {
    await engine.close();
  }
});
