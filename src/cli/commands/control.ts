import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withEngine } from '../engine-access.ts';

/** `orchestr8 cancel ID`, `retry ID`, `signal TASK_ID [PAYLOAD]`: changes that go to the owner of the state. */
export async function controlCommand(verb: 'cancel' | 'retry' | 'signal', id: string, payload: string | undefined, options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  return withEngine(
    ctx,
    async (api) => {
      if (verb === 'cancel') await api.cancel(id);
      else if (verb === 'retry') await api.retry(id);
      else await api.signal(id, payload);
      ctx.out(ctx.json ? JSON.stringify({ ok: true, id, action: verb }) : `${verb === 'signal' ? 'signalled' : `${verb}${verb === 'cancel' ? 'led' : 'ing'}`} ${id}`);
      return 0;
    });
}
