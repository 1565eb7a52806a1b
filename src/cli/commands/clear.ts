import { parseDuration } from '../../core/workflow/duration.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withEngine } from '../engine-access.ts';

/** `orchestr8 clear [--older-than 7d]`: removes finished runs from history. */
export async function clearCommand(options: GlobalOptions & { olderThan?: string }): Promise<number> {
  const ctx = cliContext(options);
  const before = options.olderThan ? Date.now() - parseDuration(options.olderThan) : undefined;
  return withEngine(ctx, async (api) => (ctx.out(`removed ${await api.clearFinished(before)} finished runs`), 0));
}
