import { NotFoundError } from '../core/engine/state-queries.ts';
import { StateOwnedError } from '../core/store/state-lock.ts';
import { WorkflowError } from '../core/workflow/workflow-error.ts';
import { CliError, ExitCode } from './cli-error.ts';

/** The exit code the README promises for a known error; anything else is a failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.code;
  if (error instanceof WorkflowError) return ExitCode.usage;
  if (error instanceof StateOwnedError) return ExitCode.owned;
  if (error instanceof NotFoundError) return ExitCode.notFound;
  return ExitCode.failed;
}
