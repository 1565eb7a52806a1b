import { loadAgentCatalog } from '../core/agents/agent-catalog.ts';
import type { Logger } from '../core/util/logger.ts';

/** One agent the "Launch Agent Task…" pick offers. */
export interface AgentChoice {
  name: string;
  description: string;
  model?: string;
}

/** The project's agents (.orchestr8/agents, .claude/agents, plugins), via the core's catalog. */
export async function listAgents(root: string, logger: Logger): Promise<AgentChoice[]> {
  const catalog = await loadAgentCatalog(root);
  for (const error of catalog.errors) logger.warn(`agent file skipped: ${error.message}`);
  return [...catalog.agents.values()]
    .map((a) => ({ name: a.name, description: a.description, ...(a.model ? { model: a.model } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
