import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/core/engine/engine.ts';
import type { RunHooks } from '../../src/core/engine/run-hooks.ts';
import type { EngineEvent, EngineEventType } from '../../src/core/model/events.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import type { WorkflowDef } from '../../src/core/model/workflow.ts';

/** A real engine on a real sql.js store in a temp folder, with every event it emits recorded. */
export interface EngineFixture {
  engine: Engine;
  dir: string;
  events: EngineEvent[];
  /** Resolves with the first event matching `match`, already emitted or still to come (match on run ids to tell launches apart). */
  next<T extends EngineEventType>(type: T, match?: (e: Extract<EngineEvent, { type: T }>) => boolean): Promise<Extract<EngineEvent, { type: T }>>;
  close(): Promise<void>;
}

export async function openEngine(options: { concurrency?: number; hooks?: RunHooks[] } = {}): Promise<EngineFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o8-ext-'));
  const engine = await Engine.open({
    stateDir: path.join(dir, 'state'),
    cwd: dir,
    concurrency: options.concurrency ?? 4,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  const events: EngineEvent[] = [];
  const waiters = new Set<(e: EngineEvent) => void>();
  engine.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w(e);
  });
  return {
    engine,
    dir,
    events,
    next(type, match) {
      const seen = events.find((e) => e.type === type && (!match || match(e as never)));
      if (seen) return Promise.resolve(seen as never);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no ${type} event within 10 s`));
        }, 10_000);
        const waiter = (e: EngineEvent) => {
          if (e.type === type && (!match || match(e as never))) {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(e as never);
          }
        };
        waiters.add(waiter);
      });
    },
    async close() {
      await engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses like the extension does: the parser reports positions in `file`, and the run records it. */
export function workflow(yaml: string, file = '/ws/.orchestr8/workflows/test.yaml'): WorkflowDef {
  return { ...parseWorkflow(yaml, file), file };
}
