import { readdir, readFile, stat } from 'node:fs/promises';
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
export async function loadAgentCatalog(root: string, extraDirs: string[] = [], cache?: AgentFileCache): Promise<AgentCatalog> {
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
      const parsed = cache ? await cache.parse(file) : await parseFile(file);
      if (parsed instanceof Error) errors.push(parsed);
      else agents.set(parsed.name, parsed);
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

async function parseFile(file: string): Promise<AgentDefinition | Error> {
  try {
    return parseAgentFile(await readFile(file, 'utf8'), file);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Parsed agent files keyed by path, reused while the file's size and mtime are unchanged.
 * Every agent task reads the catalog when it starts, so an edited file is picked up by
 * the next task, but a workflow of many tasks does not re-parse the same YAML each time.
 */
export class AgentFileCache {
  private readonly entries = new Map<string, { mtimeMs: number; size: number; parsed: AgentDefinition | Error }>();

  async parse(file: string): Promise<AgentDefinition | Error> {
    const info = await stat(file).catch(() => undefined);
    if (!info) return parseFile(file);
    const hit = this.entries.get(file);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit.parsed;
    const parsed = await parseFile(file);
    this.entries.set(file, { mtimeMs: info.mtimeMs, size: info.size, parsed });
    return parsed;
  }
}
