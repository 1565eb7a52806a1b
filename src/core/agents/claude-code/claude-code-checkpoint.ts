import type { TurnTokens } from '../model-prices.ts';

/**
 * What a claude-code task saves: Claude Code keeps the conversation itself (its session
 * transcript under ~/.claude/projects), so the checkpoint only names the session to
 * `resume`, and the final answer once there is one, so that a crash after the answer
 * but before the task completed neither asks again nor records usage twice.
 */
export interface ClaudeCodeCheckpoint {
  version: 1;
  runtime: 'claude-code';
  agent: string;
  /** Claude Code's session id, from its init message; empty until the session started. */
  sessionId: string;
  /** Model turns seen so far (across attempts), for the log. */
  turn: number;
  /** The task result, saved with its usage. */
  result?: string;
  /**
   * Tokens of the model requests of the current run of the session that no result message
   * has reported yet, per model (from the stream's message_start / message_delta). Claude
   * Code reports usage only at the end of a run and a resumed session's totals leave out a
   * run that never ended, so after a crash these are recorded by us instead of lost.
   */
  unreported?: Record<string, TurnTokens>;
  /** How many such crashed runs were recorded (each gets usage rows of its own). */
  crashedRuns?: number;
}

/** The checkpoint if it is a claude-code one of this agent; our own runtime's (or another agent's) is ignored. */
export function readClaudeCodeCheckpoint(state: unknown, agent: string): ClaudeCodeCheckpoint | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const cp = state as Partial<ClaudeCodeCheckpoint>;
  if (cp.version !== 1 || cp.runtime !== 'claude-code' || cp.agent !== agent || typeof cp.sessionId !== 'string' || typeof cp.turn !== 'number') return undefined;
  return cp as ClaudeCodeCheckpoint;
}
