import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

/** What the editor needs to know about an agent: its name, what it is for, and where it is defined. */
export interface AgentSummary {
  name: string;
  description?: string;
  file: string;
}

/**
 * Looks up the agents a project defines. Small on purpose so the language server and
 * the MCP server can be handed the core's agent catalog (src/core/agents) instead of
 * the frontmatter reader below, and tests a fixed list.
 */
export interface AgentDirectory {
  /** The agents defined for the project at `root`; later sources override earlier ones of the same name. */
  list(root: string): Promise<AgentSummary[]>;
}

/** Where agents are looked for under a project root, lowest precedence first (the agent runner's order). */
export const AGENT_FOLDERS = ['.orchestr8/agents', '.claude/agents', 'plugins/*/agents'] as const;

/**
 * Reads `name:` and `description:` from the YAML frontmatter of `*.md` files under
 * `AGENT_FOLDERS`. Files without a name are ignored: they are not agents the runner
 * could start either.
 */
export class FrontmatterAgentDirectory implements AgentDirectory {
  async list(root: string): Promise<AgentSummary[]> {
    const byName = new Map<string, AgentSummary>();
    for (const dir of await agentFolders(root)) {
      for (const file of await markdownFiles(dir)) {
        const summary = await readSummary(file);
        if (summary) byName.set(summary.name, summary);
      }
    }
    return [...byName.values()];
  }
}

async function agentFolders(root: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const source of AGENT_FOLDERS) {
    if (!source.includes('*')) {
      dirs.push(path.join(root, source));
      continue;
    }
    const [parent, , child] = source.split('/') as [string, string, string];
    const entries = await readdir(path.join(root, parent), { withFileTypes: true }).catch(() => []);
    for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) dirs.push(path.join(root, parent, e.name, child));
  }
  return dirs;
}

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.md') && e.name.toLowerCase() !== 'readme.md')
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function readSummary(file: string): Promise<AgentSummary | undefined> {
  const text = (await readFile(file, 'utf8').catch(() => '')).replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const match = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(text);
  if (!match) return undefined;
  let front: unknown;
  try {
    front = parse(match[1]!);
  } catch {
    return undefined;
  }
  if (typeof front !== 'object' || front === null) return undefined;
  const { name, description } = front as { name?: unknown; description?: unknown };
  if (typeof name !== 'string' || !name.trim()) return undefined;
  return { name: name.trim(), file, ...(typeof description === 'string' ? { description: description.trim() } : {}) };
}
