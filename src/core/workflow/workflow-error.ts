/**
 * One problem found in a workflow file. Positions are 1-based and the end is
 * exclusive (the character after the offending node); `line: 0` means the problem
 * has no place in the file (e.g. an unknown input given on the command line).
 */
export interface WorkflowIssue {
  message: string;
  file: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

/** `file:line:col: message`, or `file: message` for an issue without a position. */
export function formatIssue(issue: WorkflowIssue): string {
  return issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}: ${issue.message}` : `${issue.file}: ${issue.message}`;
}

/** Every problem of a workflow at once, one `file:line:col: message` line each. */
export class WorkflowError extends Error {
  readonly issues: readonly WorkflowIssue[];

  constructor(issues: readonly WorkflowIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'WorkflowError';
    this.issues = issues;
  }
}

/** A workflow file that cannot be read at all (missing, a folder, no permission). */
export class WorkflowFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowFileError';
  }
}
