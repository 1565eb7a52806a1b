import type { AssistantMessageParam, UserMessageParam } from '@anthropic-ai/sdk/resources/messages/messages';

/** A user or assistant turn (the agent loop never sends system-role messages). */
export type ConversationMessage = UserMessageParam | AssistantMessageParam;

/**
 * What an agent task saves after every model turn and every batch of tool results.
 * Messages are stored exactly as sent, so a resumed attempt continues the same
 * conversation without paying for finished turns again.
 */
export interface AgentCheckpoint {
  version: 1;
  agent: string;
  model: string;
  /** Model turns finished so far (requests that returned a message). */
  turn: number;
  messages: ConversationMessage[];
  /**
   * How many of the task's follow-up prompts (`TaskRecord.followUps`) the conversation has taken
   * up; counted in the checkpoint so a resumed attempt never sends one twice. Absent: none.
   */
  followUpsTaken?: number;
  /** `turn` when the latest follow-up was taken: a follow-up gets the agent's full turn limit again. */
  followUpAt?: number;
}

/** The checkpoint if it belongs to this agent and format; an older shape or another agent's is ignored. */
export function readCheckpoint(state: unknown, agent: string): AgentCheckpoint | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const cp = state as Partial<AgentCheckpoint>;
  if (cp.version !== 1 || cp.agent !== agent || !Array.isArray(cp.messages) || typeof cp.turn !== 'number' || typeof cp.model !== 'string') return undefined;
  return cp as AgentCheckpoint;
}

/**
 * Continue…: the conversation with the follow-up prompts it has not taken up yet appended as the
 * next user turn (several pending at once become one turn). Undefined when there are none. A
 * conversation that stopped mid-turn (its last message asks for tools) is left to finish first:
 * the prompt follows once the agent has answered.
 */
export function takeFollowUps(state: AgentCheckpoint, followUps: readonly string[] | undefined): AgentCheckpoint | undefined {
  const taken = state.followUpsTaken ?? 0;
  const pending = (followUps ?? []).slice(taken);
  if (!pending.length) return undefined;
  const last = state.messages.at(-1);
  if (last?.role !== 'assistant' || (typeof last.content !== 'string' && last.content.some((b) => b.type === 'tool_use'))) return undefined;
  return {
    ...state,
    messages: [...state.messages, { role: 'user', content: pending.join('\n\n') }],
    followUpsTaken: taken + pending.length,
    followUpAt: state.turn,
  };
}
