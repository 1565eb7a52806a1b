/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** The run or task ended failed or cancelled. */
  failed: 1,
  /** Bad command line or workflow file. */
  usage: 2,
  /** Another process owns the state and cannot be reached. */
  owned: 3,
  notFound: 4,
  /** `apply`: the run's branch conflicts with the current branch or with uncommitted edits; nothing was changed. */
  conflict: 5,
} as const;

/** An error the CLI prints as one line and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
