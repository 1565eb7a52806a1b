import type { AgentRuntimeName } from '../agents/agent-runtime.ts';
import type { WorkflowOptions } from '../workflow/workflow-schema.ts';
import type { Budget } from './input-request.ts';
/** A parsed, validated workflow definition. Produced by workflow/parse-workflow.ts. */

/** 1-based line and column in a workflow file. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface InputDef {
  name: string;
  description?: string;
  default?: string;
  required: boolean;
  pos?: SourcePosition;
}

export interface RetryPolicy {
  /** Extra attempts after the first one. */
  max: number;
  /** Delay before the first retry; doubled (times `factor`) each further retry. */
  backoffMs: number;
  factor: number;
  maxDelayMs: number;
  /** Full jitter: the delay is drawn uniformly from [delay/2, delay]. */
  jitter: boolean;
}

export type TaskAction =
  /** `sandbox`: run inside the OS sandbox (the task's or the workflow's `sandbox:`); unset: the runner's setting decides. */
  | { kind: 'run'; run: string; env?: Record<string, string>; sandbox?: boolean }
  /** `runtime` picks the agent loop for this task (see src/core/agents/agent-runtime.ts); none: the agent file's, else the setting's. */
  | { kind: 'agent'; agent: string; prompt: string; model?: string; runtime?: AgentRuntimeName }
  | { kind: 'wait'; message?: string }
  /** In-process no-op used by benchmarks and tests; not accepted in workflow files. */
  | { kind: 'noop'; output?: string };

export interface TaskDef {
  /** Key of the task in the workflow (`tasks.<id>`); unique in its workflow. */
  id: string;
  name?: string;
  needs: string[];
  action: TaskAction;
  timeoutMs?: number;
  retry: RetryPolicy;
  continueOnError: boolean;
  /** Higher runs first among ready tasks. */
  priority: number;
  /** `budget:` of an agent task: it asks before a model turn that would pass it. */
  budget?: Budget;
  pos?: SourcePosition;
}

export interface WorkflowDef {
  name: string;
  description?: string;
  /** Absolute path of the file it came from, if any. */
  file?: string;
  inputs: InputDef[];
  /** In file order. */
  tasks: TaskDef[];
  /** Most tasks of one run that may run at once. */
  concurrency?: number;
  /** Keys owned by adapters (workspace, webhooks, pull_request), as the parser checked them. */
  options?: WorkflowOptions;
}

export const DEFAULT_RETRY: RetryPolicy = { max: 0, backoffMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: true };
