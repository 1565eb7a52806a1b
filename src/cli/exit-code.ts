import { ConflictError, NotFoundError } from '../core/engine/errors.ts';
import { NoRunBranchError } from '../core/git/run-review.ts';
import { StateOwnedError } from '../core/store/state-lock.ts';
import { WorkflowError } from '../core/workflow/workflow-error.ts';
import { CliError, ExitCode } from './cli-error.ts';

const CLI_CODES: Record<number, string> = {
  [ExitCode.usage]: 'usage',
  [ExitCode.owned]: 'owned',
  [ExitCode.notFound]: 'not_found',
  [ExitCode.conflict]: 'merge_conflict',
};

/** An error's exit code (as the README promises) and its `--json` code: by type, never by message; anything else is a failure. */
export function outcomeOf(error: unknown): [exit: number, code: string] {
  if (error instanceof CliError) return [error.code, CLI_CODES[error.code] ?? 'failed'];
  if (error instanceof WorkflowError) return [ExitCode.usage, 'invalid_workflow'];
  // A command that does not apply to what it names (signal a task that is not waiting, cancel a finished run).
  if (error instanceof ConflictError) return [ExitCode.usage, 'conflict'];
  if (error instanceof StateOwnedError) return [ExitCode.owned, 'owned'];
  if (error instanceof NotFoundError) return [ExitCode.notFound, 'not_found'];
  // diff/apply/discard of a run without a branch (worked in place, discarded).
  if (error instanceof NoRunBranchError) return [ExitCode.notFound, 'no_branch'];
  return [ExitCode.failed, 'failed'];
}
