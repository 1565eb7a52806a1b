/**
 * Errors of the engine API that say what kind of refusal they are, so each front end maps
 * them once by type (HTTP status, CLI exit code) instead of reading their message.
 */

/** An id that names nothing, or more than one run. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * A command refused in the state things are in: nothing to cancel or retry, a task that is
 * not waiting for a signal, a run id that exists already, a run already finished.
 */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
