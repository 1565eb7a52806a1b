import { loadAgentCatalog } from './agent-catalog.ts';
import { selectTools } from './tools/agent-tool-set.ts';

/** Tools that change files in the agent's folder (a shell can change anything). */
const WRITING_TOOLS = new Set(['write_file', 'edit_file', 'run_command']);

/**
 * Whether the agent named `name`, as found under `cwd`, may change files: what decides if its
 * task needs a worktree of its own. An agent that cannot be read is assumed to write.
 */
export async function agentMayWrite(cwd: string, name: string, extraDirs: string[] = []): Promise<boolean> {
  const def = (await loadAgentCatalog(cwd, extraDirs).catch(() => undefined))?.agents.get(name);
  if (!def) return true;
  return selectTools(def.tools).tools.some((t) => WRITING_TOOLS.has(t.name));
}
