import type { RunState, TaskState } from './task-state.ts';
import type { RunDelivery } from './run-delivery.ts';
import type { Budget, InputAnswer, InputRequest } from './input-request.ts';
import type { RetryPolicy, TaskAction } from './workflow.ts';
import type { WorkflowOptions } from '../workflow/workflow-schema.ts';
import type { TaskId } from '../util/ids.ts';

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
  /** What the workflow asked of the adapters (workspace, pull request, webhooks). */
  options?: WorkflowOptions;
  /** What the run delivered (worktree, branch, pull request); see `RunDelivery`. */
  delivery?: RunDelivery;
  createdAt: number;
  finishedAt?: number;
  /** The `runFinished` hooks have completed (false after a crash between the end and, say, the pull request). */
  finalized?: boolean;
  /** Allow rules added by "Allow for this run" answers (`Bash(npm test:*)`), on top of the workflow's `permissions:`. */
  allowed?: string[];
  /** The run's spending limit (the workflow's `budget:`, raised by answers). */
  budget?: Budget;
  /** While `paused`: why, and when it tries again by itself (none: only when resumed by hand). */
  pause?: { reason: string; until?: number; since: number };
}

/** The durable row of one task of a run. */
export interface TaskRecord {
  id: TaskId;
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
  /**
   * Attempts started so far, across user retries (a retry goes on counting, so logs, checkpoints
   * and job ids never see a second "attempt 1"). An attempt cut short by its engine stopping is
   * resumed under the same number.
   */
  attempt: number;
  /** Attempts spent before the last user retry: the retry budget (`retry.max`) counts from here. */
  attemptBase?: number;
  /**
   * Times an attempt of this task was cut short because the engine running it stopped (a crash,
   * a reload, a shutdown), since the last user retry. Not counted in `attempt`: an interruption
   * is not the task's failure.
   */
  interruptions?: number;
  /**
   * Of those, the times the engine died under the attempt (a crash, a killed window) instead of
   * stopping it cleanly. Only these are bounded, like BullMQ's stalled count: a task that keeps
   * taking its engine down must not loop forever, while reloading a window is never the task's fault.
   */
  stalls?: number;
  /** Set while queued after an interruption: why attempt `attempt` stopped; the next start resumes it. */
  interrupted?: string;
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
  /**
   * Whether the latest attempt's shell commands ran in the OS sandbox (true) or unconfined
   * (false); unset until a command ran. Reported by the runner through `TaskContext.noteSandboxed`.
   */
  sandboxed?: boolean;
  /** Owner process that started the current attempt. */
  owner?: number;
  /** The task's spending limit (`budget:`, raised by answers); none: the default setting's. */
  budget?: Budget;
  /** While `needs-input`: what it asks. */
  request?: InputRequest;
  /** Answers given to its requests, in order; the runner applies each to the request it names. */
  answers?: InputAnswer[];
  /** Set when the task failed because its work conflicts with the run's branch; cleared by a retry. */
  mergeConflict?: MergeConflict;
  /**
   * Prompts given with Continue… (`EngineApi.followUp`), oldest first. Each put the finished agent
   * task back into play: a new attempt takes up its conversation from the checkpoint with it.
   */
  followUps?: string[];
  updatedAt: number;
}

/**
 * A task's committed work that does not merge into its run's branch. The run's branch is left as
 * it was; the task's branch and worktree are kept, the worktree holding the merge of the run's
 * branch into the task's with its conflicts (what a merge editor opens).
 */
export interface MergeConflict {
  /** Files both sides changed, relative to the repository's top. */
  files: string[];
  /** The task's branch, holding its commit. */
  taskBranch: string;
  /** The task's worktree, with the merge in progress. */
  worktree: string;
  /** The run's branch it was merging into, and the run's worktree. */
  runBranch: string;
  runWorktree: string;
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

/**
 * One webhook event bound for one endpoint: a row of the durable outbox. Delivered
 * at least once; the receiver deduplicates by `eventId`. The signing secret is never
 * stored, only where to find it (`secretRef`).
 */
export interface WebhookDeliveryRecord {
  /** Stable for (event, endpoint): enqueueing the same event again is a no-op. */
  id: string;
  eventId: string;
  /** Event type (`task.completed`, `pr.opened`, …). */
  event: string;
  runId?: string;
  url: string;
  /** `global` (the configured secret) or `env:NAME` (a per-workflow secret from the environment). */
  secretRef: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
  /** `dead`: gave up after the maximum attempts (or cannot be sent at all); shown to the user. */
  state: 'pending' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt?: number;
  lastError?: string;
}
