import type { SingleTaskSpec } from '../../core/engine/engine-api.ts';
import { parseDuration } from '../../core/workflow/duration.ts';
import { postLaunch } from '../background-owner.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { budgetFromFlags } from './budget-options.ts';

export interface LaunchOptions extends GlobalOptions {
  run?: string;
  agent?: string;
  prompt?: string;
  name?: string;
  timeout?: string;
  retries?: string;
  /** An agent task's budget, as `budget: { usd, tokens }` in a workflow file. */
  budgetUsd?: string;
  budgetTokens?: string;
}

/** `orchestr8 launch`: one task, fire and forget; prints its ids once the launch is durable (in the owner, or in the inbox until an owner takes it in). */
export async function launchCommand(options: LaunchOptions): Promise<number> {
  const ctx = cliContext(options);
  if (Boolean(options.run) === Boolean(options.agent)) throw new CliError('give exactly one of --run COMMAND or --agent NAME --prompt TEXT', ExitCode.usage);
  if (options.agent && !options.prompt) throw new CliError('--agent needs --prompt', ExitCode.usage);
  const budget = budgetFromFlags({ flag: '--budget-usd', value: options.budgetUsd }, { flag: '--budget-tokens', value: options.budgetTokens });
  if (budget && !options.agent) throw new CliError('--budget-usd and --budget-tokens apply to an agent task (--agent NAME --prompt TEXT) only', ExitCode.usage);
  const task: SingleTaskSpec = {
    action: options.run ? { kind: 'run', run: options.run } : { kind: 'agent', agent: options.agent!, prompt: options.prompt! },
    ...(options.name ? { name: options.name } : {}),
    ...(options.timeout ? { timeoutMs: parseDuration(options.timeout) } : {}),
    ...(options.retries ? { retries: Number(options.retries) } : {}),
    ...(budget ? { budget } : {}),
  };
  const result = await postLaunch(ctx, { task, cwd: ctx.projectRoot });
  ctx.out(
    ctx.json ? JSON.stringify(result) : `${result.taskIds[0]}\n${'  '}status: orchestr8 status ${result.runId} · result: orchestr8 result ${result.taskIds[0]}`,
  );
  return ExitCode.ok;
}
