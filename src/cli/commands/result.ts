import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { withReader } from '../state-reader.ts';
import { isTaskId } from '../../core/util/ids.ts';

/** `orchestr8 result ID`: a task's stored result (a run id works for a single-task run). */
export async function resultCommand(id: string, options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(ctx, async (api) => {
    let taskId = id;
    if (!isTaskId(id)) {
      const { tasks } = await api.status(id);
      if (tasks.length !== 1) throw new CliError(`run ${id} has ${tasks.length} tasks; name one: ${tasks.map((t) => t.id).join(', ')}`, ExitCode.usage);
      taskId = tasks[0]!.id;
    }
    const task = await api.task(taskId);
    const result = await api.result(taskId);
    if (ctx.json) return (ctx.out(JSON.stringify({ task, result: result ?? null }, null, 2)), 0);
    if (!result)
      throw new CliError(
        `task ${task.id} has no result: it is ${task.state}${task.error ? ` (${task.error})` : ''}`,
        task.state === 'failed' ? ExitCode.failed : ExitCode.notFound,
      );
    ctx.out(result.output);
    return 0;
  });
}
