import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentDefinition } from './agent-definition.ts';
import { parseAgentFile } from './parse-agent-file.ts';

/**
 * Where agents are looked for under a project root, lowest precedence first: a later
 * source overrides an earlier one that defines the same name.
 */
export const AGENT_SOURCES = ['.orchestr8/agents', '.claude/agents', 'plugins/*/agents'] as const;

export interface AgentCatalog {
  /** By name. */
  agents: Map<string, AgentDefinition>;
  /** Files that failed to parse; each message names file:line. Other files still load. */
  errors: Error[];
}

/**
 * Finds the agents of a project: `extraDirs` first (e.g. bundled examples or
 * `~/.claude/agents`), then the project sources in `AGENT_SOURCES` order.
 */
export async function loadAgentCatalog(root: string, extraDirs: string[] = []): Promise<AgentCatalog> {
  const dirs = [...extraDirs];
  for (const source of AGENT_SOURCES) {
    if (source.includes('*')) {
      const [parent, , child] = source.split('/') as [string, string, string];
      const entries = await readdir(join(root, parent), { withFileTypes: true }).catch(() => []);
      for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) dirs.push(join(root, parent, e.name, child));
    } else dirs.push(join(root, source));
  }
  const agents = new Map<string, AgentDefinition>();
  const errors: Error[] = [];
  for (const dir of dirs) {
    for (const file of await markdownFiles(dir)) {
      try {
        const def = parseAgentFile(await readFile(file, 'utf8'), file);
        agents.set(def.name, def);
      } catch (error) {
        errors.push(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
  return { agents, errors };
}

/** `*.md` files under `dir`, recursively, in a stable order; a missing dir has none. */
async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.md') && e.name.toLowerCase() !== 'readme.md')
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}
