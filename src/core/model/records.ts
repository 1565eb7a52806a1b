import type { RunState, TaskState } from './task-state.ts';
import type { RetryPolicy, TaskAction } from './workflow.ts';

/** The durable row of one run (one execution of a workflow, or of a single launched task). */
export interface RunRecord {
  id: string;
  name: string;
  file?: string;
  description?: string;
  inputs: Record<string, string>;
  state: RunState;
  concurrency?: number;
  /** True when launched as one task (`launch --run …`), not from a workflow file. */
  single: boolean;
  /** Working folder the run's tasks execute in. */
  cwd: string;
  options?: Record<string, unknown>;
  createdAt: number;
  finishedAt?: number;
  error?: string;
  /** The `runFinished` hooks have completed (false after a crash between the end and, say, the pull request). */
  finalized?: boolean;
}

/** The durable row of one task of a run. */
export interface TaskRecord {
  /** `<runId>.<key>` */
  id: string;
  runId: string;
  key: string;
  name: string;
  /** The action as written, before interpolation. */
  action: TaskAction;
  needs: string[];
  state: TaskState;
  priority: number;
  /** Position in the workflow file; keeps listings in a stable DAG-compatible order. */
  order: number;
  /** Attempts started so far. */
  attempt: number;
  retry: RetryPolicy;
  timeoutMs?: number;
  continueOnError: boolean;
  /** Earliest time a queued task may start (retry backoff). */
  notBefore?: number;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  /** Process group of a running shell task, so a new owner can reap it after a crash. */
  pid?: number;
  /** Owner process that started the current attempt. */
  owner?: number;
  updatedAt: number;
}

/** What a task produced. `output` is what `${tasks.ID.result}` interpolates. */
export interface TaskResult {
  taskId: string;
  runId: string;
  output: string;
  data?: unknown;
  exitCode?: number;
  createdAt: number;
}

/** A user-facing notification; `deliveredAt` unset means nobody has seen it yet. */
export interface NotificationRecord {
  id: string;
  runId: string;
  taskId?: string;
  kind: 'workflow.completed' | 'workflow.failed' | 'workflow.cancelled' | 'task.failed';
  title: string;
  body: string;
  createdAt: number;
  deliveredAt?: number;
}

/** Token use of one model turn. */
export interface TokenUsageRecord {
  taskId: string;
  runId: string;
  turn: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costUsd: number;
  createdAt: number;
}

/** Verdict of one quality gate (code review, tests, security, …). */
export interface QualityGateRecord {
  runId: string;
  taskId: string;
  gate: string;
  verdict: 'pass' | 'fail' | 'warn';
  report?: string;
  createdAt: number;
}

/** Durable opaque state a runner saves between turns (agent conversations). */
export interface CheckpointRecord {
  taskId: string;
  attempt: number;
  state: unknown;
  updatedAt: number;
}
