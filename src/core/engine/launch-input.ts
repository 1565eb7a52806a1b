import type { Budget } from '../model/input-request.ts';
import { parseDuration } from '../workflow/duration.ts';
import type { SingleTaskSpec } from './engine-api.ts';

/**
 * What someone typed to launch work, whichever front end took it: `orchestr8 launch` flags,
 * a POST /v1/tasks body, task_async arguments (MCP and VS Code's language-model tools), or the
 * extension's input boxes. Types are checked where the text is parsed (flags, zod schemas);
 * which fields go together is checked here, once, with one set of messages.
 */
export interface LaunchInput {
  agent?: string | undefined;
  prompt?: string | undefined;
  model?: string | undefined;
  run?: string | undefined;
  env?: Record<string, string> | undefined;
  /** Only where the front end offers it (task_async): a workflow file instead of one task. */
  workflow?: string | undefined;
  inputs?: Record<string, string> | undefined;
  name?: string | undefined;
  /** A duration as typed (`30s`, `5m`, a number of seconds), or `timeoutMs` already in milliseconds. */
  timeout?: string | undefined;
  timeoutMs?: number | undefined;
  /** Extra attempts; a string as typed on a command line. */
  retries?: number | string | undefined;
  budget?: Budget | undefined;
}

/** How a front end spells each field, so that a message names what its user typed. */
export type LaunchFieldNames = Record<Exclude<keyof LaunchInput, 'timeoutMs'>, string>;

/** The fields as the types above name them; task_async uses these (plus its budget pair). */
export const LAUNCH_FIELD_NAMES: LaunchFieldNames = {
  agent: 'agent',
  prompt: 'prompt',
  model: 'model',
  run: 'run',
  env: 'env',
  workflow: 'workflow',
  inputs: 'inputs',
  name: 'name',
  timeout: 'timeout',
  retries: 'retries',
  budget: 'budget',
};

/** The input names a bad combination or value; the message says which and how to fix it. */
export class LaunchInputError extends Error {
  override name = 'LaunchInputError';
}

export type LaunchChoice = { task: SingleTaskSpec } | { workflow: string; inputs: Record<string, string> };

/** One task or, where the front end offers it, a workflow file: exactly one of `agent`, `run`, `workflow`. */
export function launchFromInput(input: LaunchInput, fields: LaunchFieldNames = LAUNCH_FIELD_NAMES): LaunchChoice {
  const kind = kindOf(input, fields, true);
  if (kind !== 'workflow') return { task: taskSpec(input, kind, fields) };
  refuseBudget(input, fields, 'a workflow (its tasks set their own budget:)');
  refuseAgentFields(input, fields);
  // A workflow file names, times and retries its own tasks.
  for (const field of ['env', 'name', 'timeout', 'retries'] as const) {
    if (input[field] !== undefined) throw new LaunchInputError(`${fields[field]} applies to a single task, not to a workflow (its file sets that per task)`);
  }
  return { workflow: input.workflow!, inputs: input.inputs ?? {} };
}

/** One agent task or shell command, for front ends that launch workflows elsewhere. */
export function singleTaskFromInput(input: Omit<LaunchInput, 'workflow' | 'inputs'>, fields: LaunchFieldNames = LAUNCH_FIELD_NAMES): SingleTaskSpec {
  return taskSpec(input, kindOf(input, fields, false) as 'agent' | 'run', fields);
}

function kindOf(input: LaunchInput, fields: LaunchFieldNames, workflows: boolean): 'agent' | 'run' | 'workflow' {
  const kinds = (['agent', 'run', 'workflow'] as const).filter((k) => input[k] !== undefined);
  if (kinds.length === 1) return kinds[0]!;
  const choices = [
    `${fields.agent} (with ${fields.prompt})`,
    `${fields.run} (a shell command)`,
    ...(workflows ? [`${fields.workflow} (with ${fields.inputs})`] : []),
  ];
  const listed = choices.length === 2 ? choices.join(' or ') : `${choices.slice(0, -1).join(', ')}, or ${choices.at(-1)}`;
  throw new LaunchInputError(`give exactly one of: ${listed}`);
}

function taskSpec(input: LaunchInput, kind: 'agent' | 'run', fields: LaunchFieldNames): SingleTaskSpec {
  if (input.inputs !== undefined) throw new LaunchInputError(`${fields.inputs} only apply to a workflow`);
  if (kind === 'run') {
    if (!input.run?.trim()) throw new LaunchInputError(`${fields.run} needs a command to run`);
    refuseBudget(input, fields, 'a shell command');
    refuseAgentFields(input, fields);
  } else {
    if (!input.prompt?.trim()) throw new LaunchInputError(`agent ${input.agent} needs a prompt (${fields.prompt})`);
    if (input.env !== undefined) throw new LaunchInputError(`${fields.env} only applies to a shell command`);
    if (input.budget && input.budget.usd === undefined && input.budget.tokens === undefined) throw new LaunchInputError('a budget gives usd, tokens or both');
  }
  const action: SingleTaskSpec['action'] =
    kind === 'run'
      ? { kind: 'run', run: input.run!, ...(input.env ? { env: input.env } : {}) }
      : { kind: 'agent', agent: input.agent!, prompt: input.prompt!, ...(input.model ? { model: input.model } : {}) };
  const timeoutMs = timeoutOf(input, fields);
  const retries = retriesOf(input, fields);
  return {
    action,
    ...(input.name ? { name: input.name } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(input.budget ? { budget: input.budget } : {}),
  };
}

function refuseAgentFields(input: LaunchInput, fields: LaunchFieldNames): void {
  for (const field of ['prompt', 'model'] as const) {
    if (input[field] !== undefined) throw new LaunchInputError(`${fields[field]} only applies to an agent task`);
  }
}

function refuseBudget(input: LaunchInput, fields: LaunchFieldNames, what: string): void {
  if (input.budget !== undefined) throw new LaunchInputError(`a budget (${fields.budget}) applies to an agent task only, not to ${what}`);
}

function timeoutOf(input: LaunchInput, fields: LaunchFieldNames): number | undefined {
  if (input.timeoutMs !== undefined) return input.timeoutMs || undefined;
  if (!input.timeout) return undefined;
  try {
    return parseDuration(input.timeout) || undefined;
  } catch (error) {
    throw new LaunchInputError(`${fields.timeout}: ${(error as Error).message}`);
  }
}

function retriesOf(input: LaunchInput, fields: LaunchFieldNames): number | undefined {
  if (input.retries === undefined || input.retries === '') return undefined;
  const n = Number(input.retries);
  if (!Number.isInteger(n) || n < 0)
    throw new LaunchInputError(`${fields.retries} takes a whole number of extra attempts (0 or more), not ${JSON.stringify(input.retries)}`);
  return n;
}
