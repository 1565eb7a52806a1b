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
}

/** The checkpoint if it belongs to this agent and format; an older shape or another agent's is ignored. */
export function readCheckpoint(state: unknown, agent: string): AgentCheckpoint | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const cp = state as Partial<AgentCheckpoint>;
  if (cp.version !== 1 || cp.agent !== agent || !Array.isArray(cp.messages) || typeof cp.turn !== 'number' || typeof cp.model !== 'string') return undefined;
  return cp as AgentCheckpoint;
}
