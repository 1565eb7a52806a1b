import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withReader } from '../state-reader.ts';

/** `orchestr8 log TASK_ID`: everything the task printed, every attempt. */
export async function logCommand(id: string, options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(ctx, async (api) => (process.stdout.write(await api.log(id)), 0));
}
