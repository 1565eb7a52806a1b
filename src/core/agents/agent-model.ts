import type { Model } from '@anthropic-ai/sdk/resources/messages/messages';

/**
 * Default for agents whose file says `model: inherit` or names none. A current model
 * from the SDK's `Model` list (not in its deprecation table), priced in model-prices.ts.
 * `satisfies Model` keeps it a name the SDK knows.
 */
export const DEFAULT_AGENT_MODEL = 'claude-sonnet-5-5' satisfies Model;

/** Claude Code's model aliases in agent files, mapped to current ids. */
const ALIASES: Readonly<Record<string, string>> = {
  sonnet: 'claude-sonnet-5-5',
  opus: 'claude-opus-5-5',
  haiku: 'claude-haiku-5-5',
};

/** Task `model:` wins over the agent file, which wins over the configured default. */
export function resolveAgentModel(taskModel: string | undefined, agentModel: string | undefined, configuredDefault: string): string {
  const chosen = taskModel && taskModel !== 'inherit' ? taskModel : (agentModel ?? configuredDefault);
  return ALIASES[chosen] ?? chosen;
}
