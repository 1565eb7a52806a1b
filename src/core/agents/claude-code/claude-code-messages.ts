import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { TaskContext } from '../../runners/task-runner.ts';
import type { ClaudeCodeCheckpoint } from './claude-code-checkpoint.ts';

/**
 * Follows one message of Claude Code's stream: its text and tool calls go to the task log, a new
 * session id is checkpointed at once, and each new main-thread model message counts as a turn.
 */
export async function followMessage(
  ctx: TaskContext,
  message: SDKMessage,
  state: ClaudeCodeCheckpoint,
  toolNames: Map<string, string>,
  seen: Set<string>,
): Promise<void> {
  switch (message.type) {
    case 'system':
      if (message.subtype === 'init' && message.session_id && message.session_id !== state.sessionId) {
        state.sessionId = message.session_id;
        // Durable before the first request: a crash from here on resumes this session.
        await ctx.saveCheckpoint(structuredClone(state));
      }
      return;
    case 'stream_event': {
      const event = message.event;
      if (message.parent_tool_use_id === null && event.type === 'content_block_delta' && event.delta.type === 'text_delta') ctx.log(event.delta.text);
      return;
    }
    case 'assistant': {
      const sub = message.parent_tool_use_id !== null;
      for (const block of message.message.content) {
        if (block.type === 'tool_use') {
          toolNames.set(block.id, block.name);
          ctx.log(`\n${sub ? '  ' : ''}→ ${block.name} ${abbreviate(JSON.stringify(block.input))}\n`);
        } else if (block.type === 'text' && sub) {
          ctx.log(`  ${abbreviate(block.text)}\n`);
        }
      }
      // Claude Code sends one message per content block; a new message id is a new model turn
      // (checkpointed with its tokens when its stream ends, see countTokens).
      if (!sub && !seen.has(message.message.id)) {
        seen.add(message.message.id);
        state.turn += 1;
      }
      return;
    }
    case 'user': {
      const content = message.message.content;
      if (typeof content === 'string') return;
      for (const block of content) {
        if (block.type !== 'tool_result') continue;
        const name = toolNames.get(block.tool_use_id) ?? 'tool';
        const text =
          typeof block.content === 'string' ? block.content : (block.content ?? []).map((b) => (b.type === 'text' ? b.text : `[${b.type}]`)).join('');
        ctx.log(`${message.parent_tool_use_id ? '  ' : ''}← ${name}${block.is_error ? ' failed' : ''}: ${abbreviate(text)}\n`);
      }
      return;
    }
    default:
      return;
  }
}

/** One line of at most `max` characters, for the log. */
export function abbreviate(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
