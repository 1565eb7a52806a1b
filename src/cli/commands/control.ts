import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { withEngine } from '../engine-access.ts';
import { runIdOf } from '../../core/util/ids.ts';

/** `orchestr8 cancel ID`, `retry ID`, `signal TASK_ID [PAYLOAD] [--reject]`: changes that go to the owner of the state. */
export async function controlCommand(
  verb: 'cancel' | 'retry' | 'signal',
  id: string,
  payload: string | undefined,
  options: GlobalOptions & { reject?: boolean },
): Promise<number> {
  const ctx = cliContext(options);
  return withEngine(ctx, async (api) => {
    if (verb === 'cancel') await api.cancel(id);
    else if (verb === 'retry') await api.retry(id);
    else await api.signal(id, payload, options.reject ? { reject: true } : undefined);
    const action = verb === 'signal' && options.reject ? 'reject' : verb;
    ctx.out(
      ctx.json
        ? JSON.stringify({ ok: true, id, action })
        : `${action === 'reject' ? 'rejected' : verb === 'signal' ? 'signalled' : `${verb}${verb === 'cancel' ? 'led' : 'ing'}`} ${id}`,
    );
    return 0;
  });
}

/**
 * `orchestr8 continue TASK_ID --prompt TEXT`: Continue… on a finished agent task (EngineApi.followUp).
 * Like the other changes it goes to the owner; with none, a background owner runs the new attempt.
 */
export async function continueCommand(id: string, options: GlobalOptions & { prompt?: string }): Promise<number> {
  const ctx = cliContext(options);
  const prompt = options.prompt?.trim();
  if (!prompt) throw new CliError('continue needs --prompt TEXT: what the agent should do next', ExitCode.usage);
  return withEngine(ctx, async (api) => {
    await api.followUp(id, prompt);
    ctx.out(ctx.json ? JSON.stringify({ ok: true, id, action: 'continue' }) : `continuing ${id}; follow it with: orchestr8 status ${runIdOf(id)} --watch`);
    return 0;
  });
}
