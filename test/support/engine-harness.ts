import { after } from 'node:test';
import { Engine } from '../../src/core/engine/engine.ts';
import type { EngineOptions } from '../../src/core/engine/engine-options.ts';
import type { EngineEvent, EventOf } from '../../src/core/model/events.ts';
import type { RunRecord } from '../../src/core/model/records.ts';
import type { WorkflowDef } from '../../src/core/model/workflow.ts';
import { parseWorkflow } from '../../src/core/workflow/parse-workflow.ts';
import { tempDir } from './temp-dir.ts';
import { until } from './until.ts';

/** Opens a real engine on a temp state folder; closed when the test file ends. */
export async function openEngine(options: Partial<EngineOptions> = {}): Promise<{ engine: Engine; events: EngineEvent[]; stateDir: string; cwd: string }> {
  const stateDir = options.stateDir ?? tempDir('o8-state-');
  const cwd = options.cwd ?? tempDir('o8-cwd-');
  const engine = await Engine.open({ concurrency: 8, ...options, stateDir, cwd });
  const events: EngineEvent[] = [];
  engine.onEvent((e) => events.push(e));
  after(() => engine.close());
  return { engine, events, stateDir, cwd };
}

export function workflow(yaml: string, file = 'test.yaml'): WorkflowDef {
  return parseWorkflow(yaml, file);
}

/** Resolves with the run once it reaches a final state. */
export function runFinished(engine: Engine, runId: string, timeoutMs = 20_000): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run ${runId} did not finish within ${timeoutMs} ms`)), timeoutMs);
    const check = async () => {
      const { run } = await engine.status(runId);
      if (run.state !== 'running') {
        clearTimeout(timer);
        sub.dispose();
        resolve(run);
      }
    };
    const sub = engine.onEvent((e) => {
      if (e.type === 'workflow.completed' || e.type === 'workflow.failed' || e.type === 'workflow.cancelled') void check();
    });
    void check();
  });
}

/** Resolves with the first event matching `predicate`. */
export function nextEvent<T extends EngineEvent['type']>(
  engine: Engine,
  type: T,
  predicate: (e: EventOf<T>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<EventOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const sub = engine.onEvent((e) => {
      if (e.type === type && predicate(e as EventOf<T>)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(e as EventOf<T>);
      }
    });
  });
}

/**
 * Resolves with the run once it is finalized (its delivery recorded, its hooks done) after a
 * finish later than `since` (a follow-up's finish, say), asking its status until then.
 */
export async function finalized(engine: Pick<Engine, 'status'>, runId: string, since = 0, timeoutMs = 20_000): Promise<RunRecord> {
  let last: RunRecord | undefined;
  return until(
    `run ${runId} to be finalized`,
    async () => {
      last = (await engine.status(runId)).run;
      return last.finalized && (last.finishedAt ?? 0) > since ? last : undefined;
    },
    timeoutMs,
    () => JSON.stringify(last),
  );
}
