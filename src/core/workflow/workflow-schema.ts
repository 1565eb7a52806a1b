import * as z from 'zod';
import { DURATION_HELP, parseDuration } from './duration.ts';
import { AGENT_RUNTIMES } from '../agents/agent-runtime.ts';

/** Task ids and input names. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A YAML scalar that stands for a string (`CI: 1` and `CI: "1"` mean the same in env). */
const scalarText = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform(String);

/** `250ms`, `30s`, `5m`, `1h30m`, or a number of seconds; parsed to milliseconds. */
export const durationSchema = z.union([z.number(), z.string()], { error: `expected a duration: ${DURATION_HELP}` }).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** `budget: { usd, tokens }` of an agent task or of a whole run. */
export const budgetSchema = z.strictObject({ usd: z.number().positive().optional(), tokens: z.int().positive().optional() });

/** `permissions: { allow, deny }`: rules for agents' tool calls, as Claude Code writes them (`Bash(npm test:*)`). */
export const permissionsSchema = z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() });

export const retriesObjectSchema = z.strictObject({
  max: z.int().nonnegative(),
  backoff: durationSchema.optional(),
  max_delay: durationSchema.optional(),
  factor: z.number().min(1).optional(),
  jitter: z.boolean().optional(),
});

export const waitObjectSchema = z.strictObject({ message: z.string().optional() });

/** One entry of `tasks:`. Which action keys go together is checked after parsing, with better messages. */
export const taskSchema = z.strictObject({
  name: z.string().min(1).optional(),
  run: z.string().min(1).optional(),
  env: z.record(z.string().regex(ENV_NAME, { error: 'environment variable names use letters, digits and _' }), scalarText).optional(),
  agent: z.string().min(1).optional(),
  prompt: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  runtime: z.enum(AGENT_RUNTIMES).optional(),
  wait: z.union([z.literal(true), z.string().min(1), waitObjectSchema], { error: 'expected a message, true, or { message }' }).optional(),
  needs: z.union([z.string(), z.array(z.string())], { error: 'expected a task id or a list of task ids' }).optional(),
  timeout: durationSchema.optional(),
  retries: z
    .union([z.int().nonnegative(), retriesObjectSchema], { error: 'expected a number of retries or { max, backoff, max_delay, factor, jitter }' })
    .optional(),
  continue_on_error: z.boolean().optional(),
  priority: z.int().optional(),
  sandbox: z.boolean().optional(),
  budget: budgetSchema.optional(),
});
export type RawTask = z.output<typeof taskSchema>;

export const inputObjectSchema = z.strictObject({
  description: z.string().optional(),
  default: scalarText.optional(),
  required: z.boolean().optional(),
});

/** One entry of `inputs:`: `{ description, default, required }`, a bare default value, or nothing. */
export const inputSchema = z.union([z.null(), scalarText, inputObjectSchema], {
  error: 'expected { description, default, required } or a default value',
});
export type RawInput = z.output<typeof inputSchema>;

export const pullRequestSchema = z.strictObject({
  draft: z.boolean().optional(),
  base: z.string().min(1).optional(),
  title: z.string().min(1).optional(),
});

/**
 * The top level. `inputs` and `tasks` entries are checked one by one (see
 * parse-workflow.ts) so that every broken entry is reported and the rest still
 * get their own checks.
 */
export const workflowSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  inputs: z.union([z.null(), z.record(z.string(), z.unknown())], { error: 'expected a map of input names' }).optional(),
  concurrency: z.int().positive().optional(),
  workspace: z.enum(['worktree', 'in-place']).optional(),
  /** Default of `sandbox:` for the workflow's `run:` tasks. */
  sandbox: z.boolean().optional(),
  webhooks: z.array(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })).optional(),
  pull_request: pullRequestSchema.optional(),
  permissions: permissionsSchema.optional(),
  budget: budgetSchema.optional(),
  /** Agent that resolves a task's merge conflict with the run's branch (given the conflict hunks); none: the task fails and names the files. */
  resolve_conflicts: z.string().min(1).optional(),
  /** Push the run's branch even when no pull request will be opened (by default a branch is pushed only for one). */
  push: z.boolean().optional(),
  /** Files of the project folder (gitignore patterns) copied into the run's worktree, like `.worktreeinclude`. */
  include: z.array(z.string().min(1)).optional(),
  tasks: z.union([z.null(), z.record(z.string(), z.unknown())], { error: 'expected a map of task ids' }),
});

/** Top-level keys that belong to adapters; kept verbatim in `WorkflowDef.options`. */
export const OPTION_KEYS = ['workspace', 'webhooks', 'pull_request', 'permissions', 'budget', 'resolve_conflicts', 'push', 'include'] as const;

/** A workflow's options as the parser checked them: what the user asked of the adapters, never what they delivered. */
export const workflowOptionsSchema = workflowSchema.pick({
  workspace: true,
  webhooks: true,
  pull_request: true,
  permissions: true,
  budget: true,
  resolve_conflicts: true,
  push: true,
  include: true,
});
export type WorkflowOptions = z.infer<typeof workflowOptionsSchema>;

/** Allowed keys of the object at a data path, for "unknown key" messages. */
export function allowedKeys(path: readonly (string | number)[]): string[] {
  const [a, , c] = path;
  if (path.length === 0) return Object.keys(workflowSchema.shape);
  if (a === 'pull_request') return Object.keys(pullRequestSchema.shape);
  if (a === 'permissions') return Object.keys(permissionsSchema.shape);
  if (a === 'budget' || (a === 'tasks' && c === 'budget')) return Object.keys(budgetSchema.shape);
  if (a === 'inputs') return Object.keys(inputObjectSchema.shape);
  if (a === 'tasks' && path.length === 2) return Object.keys(taskSchema.shape);
  if (a === 'tasks' && c === 'retries') return Object.keys(retriesObjectSchema.shape);
  if (a === 'tasks' && c === 'wait') return Object.keys(waitObjectSchema.shape);
  return [];
}
