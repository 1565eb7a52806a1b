import { fileURLToPath } from 'node:url';
import { Engine } from '../src/core/engine/engine.ts';
import type { EngineOptions } from '../src/core/engine/engine-options.ts';
import type { WorkflowDef } from '../src/core/model/workflow.ts';
import { DEFAULT_RETRY } from '../src/core/model/workflow.ts';

/** The index worker as shipped (the benches build it first), not the TypeScript source through tsx. */
const SHIPPED_WORKER = fileURLToPath(new URL('../dist/index-worker.cjs', import.meta.url));

export const openEngine = (options: Omit<EngineOptions, 'indexWorker'>) => Engine.open({ ...options, indexWorker: SHIPPED_WORKER });

/** A workflow of `width` independent no-op tasks. */
export function wideWorkflow(n: number, width: number): WorkflowDef {
  return {
    name: `history-${n}`,
    inputs: [],
    tasks: Array.from({ length: width }, (_, i) => ({
      id: `t${i}`,
      needs: [],
      action: { kind: 'noop' as const },
      retry: DEFAULT_RETRY,
      continueOnError: false,
      priority: 0,
    })),
  };
}

/** Fills a state folder with `tasks` finished tasks (runs of 100), through the real engine. */
export async function buildHistory(stateDir: string, tasks: number): Promise<void> {
  const engine = await openEngine({ stateDir, cwd: stateDir, concurrency: 100 });
  const runs = Math.ceil(tasks / 100);
  let finished = 0;
  const done = new Promise<void>((resolve) => engine.onEvent((e) => e.type === 'workflow.completed' && ++finished === runs && resolve()));
  for (let i = 0; i < runs; i++) {
    await engine.launch({ workflow: wideWorkflow(i, 100) });
    if (engine.activeRunCount > 20) await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  await engine.close();
}
