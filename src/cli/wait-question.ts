import type { EngineApi } from '../core/engine/engine-api.ts';
import type { RunRecord, TaskRecord } from '../core/model/records.ts';
import { parseTemplate } from '../core/workflow/interpolate.ts';

/** What a waiting task asks, with its references filled in from the run's inputs and results so far. */
export async function waitQuestion(api: Pick<EngineApi, 'result'>, run: RunRecord, task: TaskRecord): Promise<string> {
  if (task.action.kind !== 'wait') return '';
  const { parts } = parseTemplate(task.action.message ?? '');
  const values = await Promise.all(
    parts.map(async (part) => {
      if (part.kind === 'text') return part.text;
      if (part.kind === 'input') return run.inputs[part.name] ?? part.raw;
      return (await api.result(`${run.id}.${part.task}`).catch(() => undefined))?.output.trim() ?? part.raw;
    }),
  );
  return values.join('') || 'waiting for a signal';
}

/** The exact command that completes a waiting task. */
export function signalCommand(task: TaskRecord): string {
  return `orchestr8 signal ${task.id} [PAYLOAD]`;
}
