import type { RunRecord, TaskRecord } from '../model/records.ts';
import { parseTemplate } from '../workflow/interpolate.ts';
import type { EngineApi } from './engine-api.ts';
import { taskId } from '../util/ids.ts';

/**
 * What a waiting task asks, shared by every front end (the CLI's status and run views, the tree, the
 * toast announcing the wait), with its references filled in from the run's inputs and results so far.
 */
export async function waitQuestion(api: Pick<EngineApi, 'result'>, run: RunRecord, task: TaskRecord): Promise<string> {
  if (task.action.kind !== 'wait') return '';
  const { parts } = parseTemplate(task.action.message ?? '');
  const values = await Promise.all(
    parts.map(async (part) => {
      if (part.kind === 'text') return part.text;
      if (part.kind === 'input') return run.inputs[part.name] ?? part.raw;
      return (await api.result(taskId(run.id, part.task)).catch(() => undefined))?.output.trim() ?? part.raw;
    }),
  );
  return values.join('') || 'waiting for a signal';
}

/** The exact command that completes a waiting task (shown by the CLI and in tooltips). */
export function signalCommand(task: TaskRecord): string {
  return `orchestr8 signal ${task.id} [PAYLOAD]`;
}
