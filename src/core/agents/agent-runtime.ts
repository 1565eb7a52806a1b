/**
 * Which agent loop runs an agent task:
 * - `orchestr8`: our own tool loop on the Messages API (`@anthropic-ai/sdk`), with our file tools.
 * - `claude-code`: Claude Code's own loop through `@anthropic-ai/claude-agent-sdk`, with its tools,
 *   settings, CLAUDE.md and MCP servers, decided by our grant (see claude-code/claude-code-permissions.ts).
 */
export type AgentRuntimeName = 'orchestr8' | 'claude-code';

export const AGENT_RUNTIMES: readonly AgentRuntimeName[] = ['orchestr8', 'claude-code'];

export function isAgentRuntime(value: unknown): value is AgentRuntimeName {
  return typeof value === 'string' && (AGENT_RUNTIMES as readonly string[]).includes(value);
}

/** The task's choice, else the agent file's, else the setting's, else our own loop. */
export function resolveAgentRuntime(task: AgentRuntimeName | undefined, file: AgentRuntimeName | undefined, setting: string | undefined): AgentRuntimeName {
  return task ?? file ?? (isAgentRuntime(setting) ? setting : 'orchestr8');
}
