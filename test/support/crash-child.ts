// Child process for the crash test: runs an engine under steady load and prints, one
// JSON line each, every event it hears (so every transition acknowledged as durable),
// until it is killed. Snapshots are made small so kills land during them too.
import { Engine } from '../../src/core/engine/engine.ts';
import type { WorkflowDef } from '../../src/core/model/workflow.ts';
import { DEFAULT_RETRY } from '../../src/core/model/workflow.ts';

const [stateDir, cwd] = process.argv.slice(2) as [string, string];
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const logger = {
  debug: (m: string) => m.startsWith('snapshot: folding') && say({ snapshot: 'start' }),
  info: () => {},
  warn: (m: string) => say({ warn: m }),
  error: (m: string) => say({ error: m }),
};

const task = (id: string, needs: string[], kind: 'noop' | 'run') => ({
  id, needs, priority: 0, continueOnError: false, retry: { ...DEFAULT_RETRY, max: 3, backoffMs: 10 },
  action: kind === 'noop' ? { kind: 'noop' as const, output: id } : { kind: 'run' as const, run: 'sleep 0.02; echo ok' },
});
const wf = (n: number): WorkflowDef => ({
  name: `load-${n}`,
  inputs: [],
  tasks: [task('a', [], 'noop'), task('b', [], 'run'), task('c', ['a'], 'noop'), task('d', ['b', 'c'], 'noop'), task('e', [], 'noop')],
});

const engine = await Engine.open({ stateDir, cwd, logger, snapshotThreshold: 16 * 1024, concurrency: 8, shutdownGraceMs: 100 });
engine.onEvent((e) => {
  if (e.type === 'task.progress') return;
  say({ type: e.type, ...('task' in e ? { id: e.task.id, state: e.task.state } : {}), ...('run' in e ? { id: e.run.id, state: e.run.state } : {}) });
});
say({ ready: true });
for (let n = 0; ; n++) {
  await engine.launch({ workflow: wf(n) });
  if (engine.activeRunCount > 20) await new Promise((r) => setTimeout(r, 5));
}
