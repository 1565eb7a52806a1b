/**
 * What the fake Messages server answers to one request. Tests queue these (or give a
 * responder function) so a conversation with "Claude" is fully scripted.
 */

/** One content block of a scripted assistant message. */
export type ScriptedBlock = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

/** Token counts reported for a scripted message (defaults derive from the request and reply size). */
export interface ScriptedUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ScriptedResponse =
  /** A normal assistant message, streamed as SSE when the request asks for `stream: true`. */
  | {
      kind: 'message';
      content: ScriptedBlock[];
      stopReason?: 'end_turn' | 'tool_use' | 'max_tokens';
      usage?: ScriptedUsage;
      /** Wait before sending the response headers (time to first byte). */
      delayMs?: number;
      /** Wait between streamed chunks. */
      chunkDelayMs?: number;
    }
  /** An API error with the real error body shape; 429/529 may carry `retry-after`. */
  | { kind: 'error'; status: number; retryAfterSeconds?: number; message?: string; delayMs?: number }
  /** Starts a valid stream, then sends a line that is not valid SSE JSON. */
  | { kind: 'malformed'; delayMs?: number }
  /** Starts a stream, sends `text`, then stalls until the client goes away (for cancellation tests). */
  | { kind: 'stall'; text?: string; delayMs?: number };

/** A request the server received, parsed, for assertions (counting turns, checking cache_control). */
export interface RecordedRequest {
  at: number;
  /** When the answer was fully sent (unset for answers that never ended). */
  finishedAt?: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: MessagesRequestBody;
}

/** The parts of a Messages API request body the fake server looks at. */
export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  stream?: boolean;
  system?: string | Array<{ type: 'text'; text: string; cache_control?: unknown }>;
  tools?: Array<{ name: string; description?: string; input_schema: unknown; cache_control?: unknown }>;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, unknown>> }>;
  temperature?: number;
}

export function textReply(text: string, extra: Partial<Extract<ScriptedResponse, { kind: 'message' }>> = {}): ScriptedResponse {
  return { kind: 'message', content: [{ type: 'text', text }], stopReason: 'end_turn', ...extra };
}

export function toolReply(
  calls: Array<{ name: string; input: Record<string, unknown> }>,
  extra: Partial<Extract<ScriptedResponse, { kind: 'message' }>> & { text?: string } = {},
): ScriptedResponse {
  const { text, ...rest } = extra;
  const content: ScriptedBlock[] = [];
  if (text) content.push({ type: 'text', text });
  for (const call of calls) content.push({ type: 'tool_use', name: call.name, input: call.input });
  return { kind: 'message', content, stopReason: 'tool_use', ...rest };
}
