import type { InputRequest } from '../../model/input-request.ts';
import type { TurnSpend } from '../budget-check.ts';
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
  /**
   * The question the task parked on (a Bash command to allow, a budget to raise), saved before
   * it parks: the next attempt reads the user's answer to it from the task's answers, or parks
   * again on it without starting Claude Code while there is none.
   */
  asked?: InputRequest;
  /** What the next run of the session tells the model first (the user's answers), kept until a model request carried them. */
  notes?: string[];
  /** A Bash command the user allowed once: it runs the next time the model issues it exactly, then asks again. */
  approved?: string;
  /** How many of the task's Continue… prompts (`TaskRecord.followUps`) the session has been given. */
  followUpsTaken?: number;
  /** The Continue… prompt being worked on: an interrupted run of it is reminded of it when resumed. */
  followUp?: string;
  /** What the last main-thread model request cost: the estimate of the next one, for the budget check. */
  lastTurn?: TurnSpend;
}

/** The checkpoint if it is a claude-code one of this agent; our own runtime's (or another agent's) is ignored. */
export function readClaudeCodeCheckpoint(state: unknown, agent: string): ClaudeCodeCheckpoint | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const cp = state as Partial<ClaudeCodeCheckpoint>;
  if (cp.version !== 1 || cp.runtime !== 'claude-code' || cp.agent !== agent || typeof cp.sessionId !== 'string' || typeof cp.turn !== 'number')
    return undefined;
  return cp as ClaudeCodeCheckpoint;
}
