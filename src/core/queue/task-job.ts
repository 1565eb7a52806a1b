import type { QualityGateRecord, RunRecord, TaskRecord, TokenUsageRecord } from '../model/records.ts';
import type { InputRequest } from '../model/input-request.ts';
import type { RunSource } from '../model/run-delivery.ts';
import type { TaskAction } from '../model/workflow.ts';

/**
 * The wire format between the coordinating engine (`BullmqExecutor`) and
 * `orchestr8 worker` processes (`TaskWorker`). Both sides import it, so a change
 * here is a protocol change: bump `TASK_JOB_VERSION`.
 */
export const TASK_JOB_VERSION = 1;

/** Default BullMQ queue name; `--queue` changes it (one queue per team or project). */
export const DEFAULT_QUEUE = 'orchestr8';

/** Job name of every task job (BullMQ needs one; the action kind is in the data). */
export const TASK_JOB_NAME = 'task';

/** `job.data` of a task job. */
export interface TaskJobData {
  v: number;
  task: TaskRecord;
  run: RunRecord;
  /** Interpolated action. */
  action: TaskAction;
  cwd: string;
  source?: RunSource;
  /** The coordinator's last checkpoint of the task, so a resumed agent goes on where it stopped. */
  checkpoint?: unknown;
}

/** `job.returnvalue` of a completed task job. */
export interface TaskJobResult {
  output: string;
  data?: unknown;
  exitCode?: number;
  /** Worker that ran it (`host:pid`). */
  worker: string;
  /** Records waiting in the job's records list (usage, gates). */
  records: number;
}

/** Live messages from a worker, sent as job progress (reach every `QueueEvents`). */
export type TaskJobProgress = { k: 'log'; text: string };

/**
 * Durable records a worker leaves for the coordinator in a Redis list, read when the
 * job ends: unlike progress events they survive a coordinator that is down meanwhile.
 */
export type TaskJobRecord =
  | { k: 'usage'; usage: Omit<TokenUsageRecord, 'taskId' | 'runId' | 'createdAt'> }
  | { k: 'gate'; gate: Omit<QualityGateRecord, 'taskId' | 'runId' | 'createdAt'> }
  /** Why the attempt failed, with whether another attempt could help. */
  | { k: 'failure'; message: string; retryable: boolean; stop?: TaskJobStop };

/**
 * An attempt that stopped to wait rather than failed: the coordinator rethrows it as the same
 * `NeedsInput` / `PauseRun` so the engine parks the task or pauses the run as it does locally.
 */
export type TaskJobStop =
  | { kind: 'needs-input'; request: InputRequest }
  | { kind: 'pause'; message: string; retryAfterMs?: number; why: 'quota' | 'run-paused' };

/** Message on the cancel channel: every worker hears it; the one running the job stops it. */
export interface CancelMessage {
  jobId: string;
  reason: string;
}

/**
 * One job per started attempt: the same id after a coordinator restart (the task
 * record keeps `attempt` and `startedAt`), so adding it again re-attaches instead of
 * running twice; a new id for every new attempt or user retry.
 */
export function taskJobId(task: TaskRecord): string {
  return `${task.id}@${task.attempt}-${task.startedAt ?? 0}`;
}

/** Redis keys and channels of the project's own (non-BullMQ) data, next to the queue's keys. */
export function queueKeys(prefix: string, queue: string) {
  const base = `${prefix}:${queue}:o8`;
  return {
    cancelChannel: `${base}:cancel`,
    records: (jobId: string) => `${base}:records:${jobId}`,
    checkpoint: (taskId: string) => `${base}:checkpoint:${taskId}`,
  };
}
