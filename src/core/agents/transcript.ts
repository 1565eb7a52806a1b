import type { AgentCheckpoint, ConversationMessage } from './agent-checkpoint.ts';

/** One step of an agent task's conversation, as a reader follows it. */
export type TranscriptEntry =
  | { kind: 'prompt'; text: string }
  | { kind: 'answer'; text: string }
  | { kind: 'tool-call'; tool: string; input: string }
  | { kind: 'tool-result'; tool: string; text: string; error: boolean };

/**
 * An agent task's conversation so far, from its checkpoint (saved after every model turn and every
 * batch of tool results): what it was asked, what it answered, which tools it called with what, and
 * what they returned. Empty for a task that saved none (not an agent task, or not started).
 */
export function transcriptOf(checkpoint: unknown): TranscriptEntry[] {
  if (!checkpoint || typeof checkpoint !== 'object') return [];
  const { messages } = checkpoint as Partial<AgentCheckpoint>;
  if (!Array.isArray(messages)) return [];
  const entries: TranscriptEntry[] = [];
  const toolNames = new Map<string, string>();
  for (const message of messages as ConversationMessage[]) {
    if (typeof message.content === 'string') {
      entries.push({ kind: message.role === 'user' ? 'prompt' : 'answer', text: message.content });
      continue;
    }
    for (const block of message.content) {
      if (block.type === 'text') entries.push({ kind: message.role === 'user' ? 'prompt' : 'answer', text: block.text });
      else if (block.type === 'tool_use') {
        toolNames.set(block.id, block.name);
        entries.push({ kind: 'tool-call', tool: block.name, input: JSON.stringify(block.input) });
      } else if (block.type === 'tool_result') {
        const text =
          typeof block.content === 'string' ? block.content : (block.content ?? []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
        entries.push({ kind: 'tool-result', tool: toolNames.get(block.tool_use_id) ?? 'tool', text, error: block.is_error === true });
      }
    }
  }
  return entries;
}
