import type { InputReply } from '../../core/model/input-request.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { withEngine } from '../engine-access.ts';
import { budgetFromFlags } from './budget-options.ts';

export interface AnswerOptions extends GlobalOptions {
  /** approve: allow for the rest of the run (the request's rule joins the run's allow list). */
  always?: boolean;
  /** approve a budget request: raise it by this much (default: by the budget again). */
  raiseUsd?: string;
  raiseTokens?: string;
  /** deny: why, for the agent (it receives this as the tool's result). */
  reason?: string;
}

/**
 * `orchestr8 approve TASK_ID [--always] [--raise-usd N] [--raise-tokens N]` and
 * `orchestr8 deny TASK_ID [--reason TEXT]`: answer a task in `needs-input`.
 */
export async function answerCommand(verb: 'approve' | 'deny', id: string, options: AnswerOptions): Promise<number> {
  const ctx = cliContext(options);
  const reply: InputReply = { decision: verb === 'approve' ? 'allow' : 'deny' };
  if (verb === 'approve' && options.always) reply.always = true;
  if (verb === 'deny' && options.reason) reply.reason = options.reason;
  const raise = budgetFromFlags({ flag: '--raise-usd', value: options.raiseUsd }, { flag: '--raise-tokens', value: options.raiseTokens });
  if (raise) reply.raise = raise;
  return withEngine(ctx, async (api) => {
    const asked = (await api.task(id)).request;
    await api.answer(id, reply);
    const said =
      verb === 'deny'
        ? asked?.kind === 'budget'
          ? 'stopped'
          : 'denied'
        : asked?.kind === 'budget'
          ? 'raised the budget of'
          : options.always
            ? 'allowed for this run'
            : 'allowed once';
    ctx.out(
      ctx.json ? JSON.stringify({ ok: true, id, action: verb, request: asked }) : `${said} ${id}${asked?.kind === 'permission' ? `: ${asked.call}` : ''}`,
    );
    return 0;
  });
}

/** `orchestr8 pause RUN_ID` / `orchestr8 resume RUN_ID`. */
export async function pauseCommand(verb: 'pause' | 'resume', id: string, options: GlobalOptions & { reason?: string }): Promise<number> {
  const ctx = cliContext(options);
  return withEngine(ctx, async (api) => {
    if (verb === 'pause') await api.pause(id, options.reason);
    else await api.resume(id);
    const said = verb === 'pause' ? 'paused' : 'resumed';
    ctx.out(
      ctx.json
        ? JSON.stringify({ ok: true, id, action: verb })
        : `${said} ${id}${verb === 'pause' ? ' (running tasks finish their current turn; nothing new starts)' : ''}`,
    );
    return 0;
  });
}
