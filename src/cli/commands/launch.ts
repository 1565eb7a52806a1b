import type { SingleTaskSpec } from '../../core/engine/engine-api.ts';
import { LAUNCH_FIELD_NAMES, LaunchInputError, singleTaskFromInput, type LaunchFieldNames } from '../../core/engine/launch-input.ts';
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

/** The flags, as messages about a launch name them. */
const CLI_FIELDS: LaunchFieldNames = {
  ...LAUNCH_FIELD_NAMES,
  agent: '--agent NAME',
  prompt: '--prompt TEXT',
  run: '--run COMMAND',
  name: '--name',
  timeout: '--timeout',
  retries: '--retries',
  budget: '--budget-usd, --budget-tokens',
};

/** `orchestr8 launch`: one task, fire and forget; prints its ids once the launch is durable (in the owner, or in the inbox until an owner takes it in). */
export async function launchCommand(options: LaunchOptions): Promise<number> {
  const ctx = cliContext(options);
  const budget = budgetFromFlags({ flag: '--budget-usd', value: options.budgetUsd }, { flag: '--budget-tokens', value: options.budgetTokens });
  const { agent, prompt, run, name, timeout, retries } = options;
  let task: SingleTaskSpec;
  try {
    task = singleTaskFromInput({ agent, prompt, run, name, timeout, retries, budget }, CLI_FIELDS);
  } catch (error) {
    throw error instanceof LaunchInputError ? new CliError(error.message, ExitCode.usage) : error;
  }
  const result = await postLaunch(ctx, { task, cwd: ctx.projectRoot });
  ctx.out(
    ctx.json ? JSON.stringify(result) : `${result.taskIds[0]}\n${'  '}status: orchestr8 status ${result.runId} · result: orchestr8 result ${result.taskIds[0]}`,
  );
  return ExitCode.ok;
}
