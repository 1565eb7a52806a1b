import * as z from 'zod';

/**
 * Arguments of the fire-and-forget tools, shared by the MCP server and VS Code's
 * language-model tools (whose package.json schemas a test compares with these).
 */
export const taskAsyncShape = {
  agent: z.string().min(1).optional().describe('Name of the agent to run (an agent definition of the project); needs prompt'),
  prompt: z.string().min(1).optional().describe('What the agent should do'),
  run: z.string().min(1).optional().describe('A shell command to run instead of an agent'),
  workflow: z.string().min(1).optional().describe('A workflow file to launch instead (see workflow_list); takes inputs'),
  inputs: z.record(z.string(), z.string()).optional().describe('Workflow inputs, name to value'),
  name: z.string().min(1).optional().describe('Display name of the task'),
  timeout: z.string().optional().describe('Longest the task may run, e.g. 30s, 5m, 1h'),
  retries: z.number().int().min(0).max(10).optional().describe('Extra attempts if it fails'),
  budget_usd: z
    .number()
    .positive()
    .optional()
    .describe('With agent: its budget in dollars; before a model turn that would pass it, the task asks to raise the budget or stop'),
  budget_tokens: z.number().int().positive().optional().describe('With agent: its budget in tokens (input, output and cache, as billed)'),
};

export const idShape = {
  id: z.string().min(1).describe('A task id (<run>.<task>) or a run id, as returned by task_async or workflow_launch'),
};

export const taskResultShape = {
  ...idShape,
  wait_seconds: z.number().min(0).max(55).optional().describe('Wait up to this many seconds for the task to finish (default 0: answer at once)'),
};

export const taskContinueShape = {
  id: z.string().min(1).describe('The id of a finished agent task (<run>.<task>)'),
  prompt: z.string().min(1).describe('The follow-up: what the agent should do next, in the same conversation'),
};

export const workflowLaunchShape = {
  file: z.string().min(1).describe('Workflow file: a name from workflow_list, or a path relative to the project'),
  inputs: z.record(z.string(), z.string()).optional().describe('Workflow inputs, name to value'),
};

export const taskAnswerShape = {
  id: z.string().min(1).describe('The id of a task in needs-input (task_status shows its request)'),
  decision: z.enum(['allow', 'deny']).describe('allow: run the command (or raise the budget); deny: refuse it (or stop the task at its budget)'),
  always: z.boolean().optional().describe("With allow: allow the command for the rest of the run (its rule joins the run's allow list)"),
  reason: z.string().max(4000).optional().describe('With deny: why; the agent receives it as the tool result'),
  raise_usd: z.number().positive().optional().describe('With allow on a budget request: raise the budget by this many dollars (default: by the budget again)'),
  raise_tokens: z.number().int().positive().optional().describe('With allow on a budget request: raise the budget by this many tokens'),
};

export type TaskAnswerArgs = z.infer<z.ZodObject<typeof taskAnswerShape>>;
export type TaskAsyncArgs = z.infer<z.ZodObject<typeof taskAsyncShape>>;
export type IdArgs = z.infer<z.ZodObject<typeof idShape>>;
export type TaskResultArgs = z.infer<z.ZodObject<typeof taskResultShape>>;
export type TaskContinueArgs = z.infer<z.ZodObject<typeof taskContinueShape>>;
export type WorkflowLaunchArgs = z.infer<z.ZodObject<typeof workflowLaunchShape>>;
