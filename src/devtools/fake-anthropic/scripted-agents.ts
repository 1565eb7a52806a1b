import type { Responder } from './fake-anthropic-server.ts';
import type { RecordedRequest, ScriptedResponse } from './scripted-response.ts';

/**
 * A scripted "model" for one agent: gets the turn number (1 for the first request of a
 * conversation, counted from the assistant messages already in it) and the request,
 * and returns the answer. Pure functions of the request, so a resumed conversation
 * gets the same answer for the same turn.
 */
export type AgentScript = (turn: number, request: RecordedRequest) => ScriptedResponse;

/**
 * A responder for many concurrent agents: picks the script whose key occurs in the
 * request's system prompt (the agent file body), longest key first.
 */
export function scriptedAgents(scripts: Record<string, AgentScript>): Responder {
  const keys = Object.keys(scripts).sort((a, b) => b.length - a.length);
  return (request) => {
    const system = systemText(request);
    const key = keys.find((k) => system.includes(k));
    if (!key) return { kind: 'error', status: 400, message: `fake-anthropic: no script matches this system prompt: ${system.slice(0, 120)}` };
    return scripts[key]!(turnOf(request), request);
  };
}

export function systemText(request: RecordedRequest): string {
  const system = request.body.system;
  if (!system) return '';
  return typeof system === 'string' ? system : system.map((b) => b.text).join('\n');
}

/** 1 + the number of assistant messages already in the conversation. */
export function turnOf(request: RecordedRequest): number {
  return 1 + request.body.messages.filter((m) => m.role === 'assistant').length;
}

/** Text of the tool results in the last user message (what the previous turn's tools returned). */
export function lastToolResults(request: RecordedRequest): string[] {
  const last = request.body.messages.at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter((b) => b.type === 'tool_result').map((b) => String(b.content));
}

/** The first user message: the task prompt. */
export function promptOf(request: RecordedRequest): string {
  const first = request.body.messages[0];
  if (!first) return '';
  return typeof first.content === 'string' ? first.content : first.content.map((b) => String(b.text ?? '')).join('');
}

/**
 * Text of every tool result in the conversation, oldest first. Scripts for Claude Code
 * key on these rather than on the turn number: a resumed Claude Code session adds its
 * own messages (an interrupted turn becomes "No response requested.").
 */
export function allToolResults(request: RecordedRequest): string[] {
  return request.body.messages.flatMap((m) =>
    typeof m.content === 'string'
      ? []
      : m.content.filter((b) => b.type === 'tool_result').map((b) => (typeof b.content === 'string' ? b.content : JSON.stringify(b.content))),
  );
}
