import type { RetryPolicy } from '../model/workflow.ts';

/** Delay before the retry that follows failed attempt number `attempt` (1-based): exponential, capped, with jitter in [d/2, d]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.backoffMs * policy.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(policy.jitter ? capped / 2 + (random() * capped) / 2 : capped);
}

/** The attempts a task has spent since the user last retried it: what its retry policy counts. */
export function attemptsSpent(task: { attempt: number; attemptBase?: number }): number {
  return task.attempt - (task.attemptBase ?? 0);
}

/** True when a task that just failed its `attempt`-th attempt (since the last user retry) may try again. */
export function hasAttemptsLeft(policy: RetryPolicy, attempt: number): boolean {
  return attempt <= policy.max;
}
