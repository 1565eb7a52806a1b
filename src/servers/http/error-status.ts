import { ConflictError, NotFoundError } from '../../core/engine/errors.ts';
import { LaunchInputError } from '../../core/engine/launch-input.ts';
import { StateOwnedError } from '../../core/store/state-lock.ts';
import { StorageFullError } from '../../core/store/storage-full.ts';
import { errorMessage } from '../../core/util/logger.ts';
import { WorkflowError, type WorkflowIssue } from '../../core/workflow/workflow-error.ts';
import { HttpError } from './request-guard.ts';

/**
 * The engine's typed errors and their HTTP statuses, in one place: the server maps an error
 * to its status by type, and the API client turns the JSON error code back into the same type,
 * so a remote caller can tell a refusal from a missing run exactly as a local one does.
 */
const STATUSES: [new (...args: never[]) => Error, number, string][] = [
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  // Another process owns the state: the command was refused, as a conflict is.
  [StateOwnedError, 409, 'conflict'],
  [WorkflowError, 400, 'invalid_workflow'],
  [LaunchInputError, 400, 'invalid_request'],
  [StorageFullError, 507, 'storage_full'],
];

/** An error thrown while serving a request, as the status and code the client receives; anything untyped is a 500. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  for (const [type, status, code] of STATUSES) {
    if (error instanceof type) return new HttpError(status, code, error.message, error instanceof WorkflowError ? error.issues : undefined);
  }
  return new HttpError(500, 'internal', errorMessage(error));
}

/** The typed error an error response stands for, or undefined when it stands for none. */
export function errorFromResponse(status: number, code: string | undefined, message: string, details: unknown): Error | undefined {
  if (status === 404 && code === 'not_found') return new NotFoundError(message);
  if (status === 409 && code === 'conflict') return new ConflictError(message);
  // The server always sends a WorkflowError's issues (an unreadable file is one without a position).
  if (status === 400 && code === 'invalid_workflow' && Array.isArray(details) && details.length) return new WorkflowError(details as WorkflowIssue[]);
  if (status === 507 && code === 'storage_full') {
    const error = new StorageFullError('');
    error.message = message; // the server's text already says it all
    return error;
  }
  return undefined;
}
