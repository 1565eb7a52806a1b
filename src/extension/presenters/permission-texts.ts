import { describeRequest } from '../../core/model/input-request.ts';
import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { formatTime } from './format.ts';

/** A toast's words and buttons for a task in `needs-input`. Pure, for tests. */
export interface RequestToast {
  message: string;
  actions: string[];
}

export const ALLOW_ONCE = 'Allow Once';
export const ALLOW_FOR_RUN = 'Allow for This Run';
export const DENY = 'Deny…';
export const RAISE_BUDGET = 'Raise Budget';
export const STOP = 'Stop';
export const RESUME = 'Resume';

export function requestToast(task: TaskRecord, runName: string): RequestToast | undefined {
  const request = task.request;
  if (!request) return undefined;
  const who = `${task.name || task.key} (${runName})`;
  if (request.kind === 'permission') return { message: `Orchestr8: ${who} asks to run ${request.call}`, actions: [ALLOW_ONCE, ALLOW_FOR_RUN, DENY] };
  return { message: `Orchestr8: ${who}: ${describeRequest(request)}`, actions: [RAISE_BUDGET, STOP] };
}

/** Why a run paused, and when it tries again. */
export function pausedToast(run: RunRecord): RequestToast {
  const until = run.pause?.until;
  const when = until !== undefined ? ` It tries again at ${formatTime(until)}.` : ' It waits until you resume it.';
  return { message: `Orchestr8: run ${run.name} paused: ${run.pause?.reason ?? 'paused'}.${when}`, actions: [RESUME] };
}

/** The tree row's words for a parked task: what it asks, briefly. */
export function requestSummary(task: TaskRecord): string {
  const request = task.request;
  if (!request) return 'needs input';
  return request.kind === 'permission' ? `asks: ${request.call}` : 'budget reached: raise or stop';
}
