import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { abortReason, PauseRun, TaskError } from '../runners/task-runner.ts';
import { errorMessage } from '../util/logger.ts';

/**
 * What a failed model request means for the task: cancelled or timed out, worth another attempt
 * (unreachable, 5xx, a malformed stream), a pause of the whole run (quota, overload after the SDK's
 * `sdkRetries`), or a failure (401, 400).
 */
export function agentRequestError(signal: AbortSignal, error: unknown, sdkRetries: number): TaskError | PauseRun {
  if (signal.aborted || error instanceof APIUserAbortError) {
    const reason = abortReason(signal) ?? 'cancelled';
    return new TaskError(`agent ${reason}`, reason === 'timeout');
  }
  if (error instanceof APIConnectionError) {
    // The SDK's message is only "Connection error."; the cause says which (refused, DNS, TLS, reset).
    const cause = error.cause instanceof Error ? errorMessage(error.cause.cause instanceof Error ? error.cause.cause : error.cause) : undefined;
    return new TaskError(`Anthropic API unreachable: ${error.message}${cause && cause !== error.message ? ` (${cause})` : ''}`, true);
  }
  if (error instanceof APIError && error.status !== undefined) {
    const status = error.status;
    const quota = quotaPause(error, status, sdkRetries);
    if (quota) return quota;
    // The SDK already retried these with retry-after; the engine's task retries come on top.
    const transient = status === 408 || status === 409 || status === 429 || status >= 500;
    const hint = status === 401 ? ' (check ANTHROPIC_API_KEY / the stored key)' : '';
    return new TaskError(`Anthropic API error ${status}: ${errorMessage(error)}${hint}`, transient);
  }
  // Malformed streams, JSON errors: worth another attempt.
  return new TaskError(`agent request failed: ${errorMessage(error)}`, true);
}

/** Usage limits and exhausted credit, as the Messages API words them (a 400, 402, 403 or 429). */
const QUOTA_MESSAGE = /credit balance|usage limit|billing|quota|spend limit/i;

/**
 * Answers that mean "not now" for the whole run rather than a failure of this task: the account's
 * usage limit or credit is exhausted, or the API is still overloaded (529) or rate limiting (429)
 * after the SDK's own retries. The run pauses until `retry-after`, if the API names one.
 */
function quotaPause(error: APIError, status: number, retries: number): PauseRun | undefined {
  // The API's own words (`{ error: { message } }`), not the SDK's "529 {json}".
  const body = error.error as { error?: { message?: unknown } } | undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : errorMessage(error);
  const limit = QUOTA_MESSAGE.test(message) && [400, 402, 403, 429].includes(status);
  if (!limit && status !== 529 && status !== 429) return undefined;
  const what = limit ? 'usage limit or credit exhausted' : status === 529 ? 'overloaded' : 'rate limited';
  return new PauseRun(`Anthropic API ${what} (${status}${limit ? '' : ` after ${retries} retries`}): ${message}`, retryAfterMs(error));
}

/** `retry-after` in seconds or as an HTTP date, in milliseconds from now. */
function retryAfterMs(error: APIError): number | undefined {
  const headers = error.headers as { get?: (name: string) => string | null | undefined } | Record<string, string> | undefined;
  const value = typeof headers?.get === 'function' ? headers.get('retry-after') : (headers as Record<string, string> | undefined)?.['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
