import { strict as assert } from 'node:assert';
import type { InputAnswer } from '../../src/core/model/input-request.ts';
import { NeedsInput } from '../../src/core/runners/task-runner.ts';

/** The question a runner's attempt parked on; fails the test if the attempt ended any other way. */
export async function parked(promise: Promise<unknown>): Promise<NeedsInput> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof NeedsInput, `expected the task to park, got ${String(error)}`);
  return error;
}

/** The user's answer to request `requestId`, as the engine stores it on the task. */
export const answer = (requestId: string, decision: 'allow' | 'deny', reason?: string): InputAnswer => ({
  requestId,
  decision,
  answeredAt: Date.now(),
  ...(reason ? { reason } : {}),
});
