// Child process for the crash harness (crash-harness.ts): runs an engine under steady load and
// prints, one JSON line each, every event it hears (so every transition acknowledged as durable),
// until it is killed, by the harness or by the crash point armed in ORCHESTR8_CRASH_AT. Snapshots
// are made small so kills land during them too. The harness runs it bundled (no top-level await:
// the bundle is CommonJS, like the shipped ones).
import { Engine } from '../../src/core/engine/engine.ts';
import type { WorkflowDef } from '../../src/core/model/workflow.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';

const [stateDir, cwd] = process.argv.slice(2) as [string, string];
// stdout is a pipe, written synchronously on Linux: a line printed before the process dies is read by the harness.
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const logger = {
  debug: (m: string) => {
    if (m.startsWith('snapshot: folding')) say({ snapshot: 'start' });
    else if (/^snapshot: \d+ bytes/.test(m)) say({ snapshot: 'done' });
  },
  info: () => {},
  warn: (m: string) => say({ warn: m }),
  error: (m: string) => say({ error: m }),
};

const task = (id: string, needs: string[], kind: 'noop' | 'run') => ({
  id,
  needs,
  priority: 0,
  continueOnError: false,
  retry: { ...DEFAULT_RETRY, max: 3, backoffMs: 10 },
  action: kind === 'noop' ? { kind: 'noop' as const, output: id } : { kind: 'run' as const, run: 'sleep 0.02; echo ok' },
});
const wf = (n: number): WorkflowDef => ({
  name: `load-${n}`,
  inputs: [],
  tasks: [task('a', [], 'noop'), task('b', [], 'run'), task('c', ['a'], 'noop'), task('d', ['b', 'c'], 'noop'), task('e', [], 'noop')],
});

async function main(): Promise<void> {
  const engine = await Engine.open({ stateDir, cwd, logger, snapshotThreshold: 16 * 1024, concurrency: 8, shutdownGraceMs: 100 });
  engine.onEvent((e) => {
    if (e.type === 'task.progress') return;
    say({ type: e.type, ...('task' in e ? { id: e.task.id, state: e.task.state } : {}), ...('run' in e ? { id: e.run.id, state: e.run.state } : {}) });
  });
  // The armed crash point, so the harness can tell a death at that point from any other.
  say({ ready: true, armed: process.env.ORCHESTR8_CRASH_AT ?? null });
  // Steady load, bounded: every run launched here is one the final recovery has to finish.
  for (let n = 0; ; n++) {
    await engine.launch({ workflow: wf(n) });
    while (engine.activeRunCount > 20) await new Promise((r) => setTimeout(r, 5));
  }
}

main().catch((error: unknown) => {
  say({ error: `child failed: ${(error as Error).stack ?? String(error)}` });
  process.exit(1);
});
