/** Spending limits of an agent task or a run; either may be left out. */
export interface Budget {
  usd?: number;
  tokens?: number;
}

/**
 * What a task in `needs-input` asks the user. `id` names the question so an answer meant for
 * it is never applied to another (a permission's id is the model's tool-use id).
 */
export type InputRequest =
  | {
      kind: 'permission';
      id: string;
      /** The tool, as Claude Code names it (`Bash`). */
      tool: string;
      /** What it would do, in Claude Code's spelling: `Bash(npm test --watch)`. */
      call: string;
      /** The allow rule "Allow for this run" adds: `Bash(npm test:*)`. */
      rule: string;
      askedAt: number;
    }
  | {
      kind: 'budget';
      id: string;
      /** Whose budget: the task's own (or the default), or the run's (the workflow's `budget:`). */
      scope: 'task' | 'run';
      budget: Budget;
      spent: { usd: number; tokens: number };
      askedAt: number;
    };

/**
 * The user's answer to a request. `allow` with `always`: allow for the rest of the run (the
 * request's rule joins the run's allow list). `deny` with a `reason` the agent receives as the
 * tool's result; for a budget, `deny` stops the task and `allow` raises the budget by `raise`
 * (default: by the budget again).
 */
export interface InputAnswer {
  requestId: string;
  decision: 'allow' | 'deny';
  always?: boolean;
  reason?: string;
  raise?: Budget;
  answeredAt: number;
}

/** One answer as given through the API (the engine fills in which request and when). */
export type InputReply = Omit<InputAnswer, 'requestId' | 'answeredAt'>;

/** Short words for a request, for logs, toasts and `status`. */
export function describeRequest(request: InputRequest): string {
  if (request.kind === 'permission') return `permission to run ${request.call}`;
  return `${describeBudget(request)}: raise the budget or stop`;
}

/** Which budget a budget request is about and what was spent: `its budget of $1 is spent ($1.02, 9000 tokens)`. */
export function describeBudget(request: Extract<InputRequest, { kind: 'budget' }>): string {
  const limit = [request.budget.usd !== undefined ? `$${request.budget.usd}` : '', request.budget.tokens !== undefined ? `${request.budget.tokens} tokens` : '']
    .filter(Boolean)
    .join(' / ');
  return `${request.scope === 'run' ? "the run's" : 'its'} budget of ${limit} is spent ($${request.spent.usd.toFixed(4)}, ${request.spent.tokens} tokens)`;
}
