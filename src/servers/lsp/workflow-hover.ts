import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { URI } from 'vscode-uri';
import type { AgentSummary } from './agent-directory.ts';

/** Hover over the value of `agent:`: the agent's description and the file that defines it. */
export function workflowHover(text: string, position: Position, agents: readonly AgentSummary[]): Hover | undefined {
  const line = text.split(/\r?\n/)[position.line] ?? '';
  const m = /^(\s*(?:- +)?agent\s*:\s*)(["']?)([\w.-]+)\2\s*(#.*)?$/.exec(line);
  if (!m) return undefined;
  const start = m[1]!.length + m[2]!.length;
  const end = start + m[3]!.length;
  if (position.character < start || position.character > end) return undefined;
  const agent = agents.find((a) => a.name === m[3]);
  const range = { start: { line: position.line, character: start }, end: { line: position.line, character: end } };
  if (!agent) return { range, contents: { kind: MarkupKind.Markdown, value: `**${m[3]}**: no agent of this name is defined in this project` } };
  const link = `[${agent.file.split(/[\\/]/).slice(-3).join('/')}](${URI.file(agent.file).toString()})`;
  return {
    range,
    contents: { kind: MarkupKind.Markdown, value: `**${agent.name}**${agent.description ? `\n\n${agent.description}` : ''}\n\nDefined in ${link}` },
  };
}
