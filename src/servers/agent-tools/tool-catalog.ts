import * as z from 'zod';
import { idShape, taskAnswerShape, taskAsyncShape, taskContinueShape, taskResultShape, workflowLaunchShape } from './tool-schemas.ts';

/** One fire-and-forget tool, as both the MCP server and VS Code's language-model tools offer it. */
export interface AgentToolSpec {
  /** The MCP tool name; VS Code's is `orchestr8_<name>` (tool names are global there). */
  name:
    | 'task_async'
    | 'task_status'
    | 'task_result'
    | 'task_cancel'
    | 'task_continue'
    | 'workflow_list'
    | 'workflow_launch'
    | 'task_answer'
    | 'run_pause'
    | 'run_resume';
  title: string;
  description: string;
  shape: z.ZodRawShape;
  /** Starts or stops work: VS Code asks the user to confirm first. */
  changesState: boolean;
  readOnly: boolean;
}

export const AGENT_TOOLS: readonly AgentToolSpec[] = [
  {
    name: 'task_async',
    title: 'Launch a background task',
    description:
      'Fire and forget: starts an agent task (agent + prompt), a shell command (run) or a workflow (workflow + inputs) in the background and ' +
      'returns its ids at once. ' +
      'Check on it later with task_status or task_result.',
    shape: taskAsyncShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'task_status',
    title: 'Task or run status',
    description: 'State of a task (with its run) or of a run (with all its tasks): pending, queued, running, waiting, completed, failed, cancelled or skipped.',
    shape: idShape,
    changesState: false,
    readOnly: true,
  },
  {
    name: 'task_result',
    title: 'Task result',
    description: "A finished task's output (for a run id: each task's). Pass wait_seconds to wait for it to finish first.",
    shape: taskResultShape,
    changesState: false,
    readOnly: true,
  },
  {
    name: 'task_cancel',
    title: 'Cancel a task or run',
    description: 'Cancels a task (its dependents are skipped) or every unfinished task of a run.',
    shape: idShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'task_continue',
    title: 'Continue an agent task',
    description:
      "Sends a follow-up to a finished agent task: a new attempt continues the same conversation in the run's folder (its worktree and branch), " +
      'in the background. ' +
      'Check on it with task_status or task_result.',
    shape: taskContinueShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'workflow_list',
    title: 'List workflows',
    description: 'The workflow files of the project (.orchestr8/workflows), with their inputs, tasks and any problems.',
    shape: {},
    changesState: false,
    readOnly: true,
  },
  {
    name: 'workflow_launch',
    title: 'Launch a workflow',
    description: 'Fire and forget: launches a workflow file with its inputs and returns the run id and task ids at once.',
    shape: workflowLaunchShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'task_answer',
    title: 'Answer a task that needs input',
    description:
      'Answers a task in needs-input: a shell command its agent wants to run (allow once, allow for the run with always, ' +
      'or deny with a reason the agent receives), ' +
      'or a budget it reached (allow with raise_usd / raise_tokens, or deny to stop it).',
    shape: taskAnswerShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'run_pause',
    title: 'Pause a run',
    description: 'Pauses a running run: nothing new starts, running agents stop after their current turn. run_resume goes on.',
    shape: idShape,
    changesState: true,
    readOnly: false,
  },
  {
    name: 'run_resume',
    title: 'Resume a paused run',
    description: 'Resumes a paused run (paused by hand, or because the API quota ran out) now.',
    shape: idShape,
    changesState: true,
    readOnly: false,
  },
];

export const lmToolName = (name: AgentToolSpec['name']) => `orchestr8_${name}`;

/**
 * The `contributes.languageModelTools` entry of a tool. package.json must hold exactly
 * these (a test compares them), so the schema VS Code shows the model is the one the
 * MCP server validates with.
 */
export function languageModelToolManifest(spec: AgentToolSpec): Record<string, unknown> {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(z.object(spec.shape)) as Record<string, unknown>;
  return {
    name: lmToolName(spec.name),
    toolReferenceName: lmToolName(spec.name),
    displayName: `Orchestr8: ${spec.title}`,
    modelDescription: spec.description,
    userDescription: spec.title,
    canBeReferencedInPrompt: true,
    icon: '$(rocket)',
    tags: ['orchestr8', 'background'],
    inputSchema,
  };
}
