import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
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
  return catalogOf([...extraDirs, ...(await projectAgentDirs(root))], cache);
}

async function catalogOf(dirs: string[], cache?: AgentFileCache): Promise<AgentCatalog> {
  // Read side by side (every agent task does this as it starts, on the critical path), applied in precedence order.
  const files = (await Promise.all(dirs.map(markdownFiles))).flat();
  const parsed = await Promise.all(files.map((file) => (cache ? cache.parse(file) : parseFile(file))));
  const agents = new Map<string, AgentDefinition>();
  const errors: Error[] = [];
  for (const p of parsed) {
    if (p instanceof Error) errors.push(p);
    else agents.set(p.name, p);
  }
  return { agents, errors };
}

/** The folders of `AGENT_SOURCES` under `root`, in precedence order. */
async function projectAgentDirs(root: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const source of AGENT_SOURCES) {
    if (source.includes('*')) {
      const [parent, , child] = source.split('/') as [string, string, string];
      const entries = await readdir(join(root, parent), { withFileTypes: true }).catch(() => []);
      for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) dirs.push(join(root, parent, e.name, child));
    } else dirs.push(join(root, source));
  }
  return dirs;
}

/** An agent file as read from the project folder when a run was launched (kept in the run's delivery). */
export interface AgentFileSnapshot {
  /** Relative to the project folder, `/`-separated. */
  path: string;
  content: string;
}

/** Past this many bytes of agent files a snapshot stops (and says so): they are kept in every run's record. */
export const AGENT_SNAPSHOT_LIMIT = 128 * 1024;

/**
 * The project's agent files as they are on disk now, committed or not, in precedence order:
 * what a run keeps so that its tasks, their retries and a resume after a restart use the
 * definitions the user saw at launch, whatever its worktree (made from HEAD) holds.
 */
export async function snapshotAgentFiles(root: string): Promise<{ files: AgentFileSnapshot[]; skipped: string[] }> {
  const files: AgentFileSnapshot[] = [];
  const skipped: string[] = [];
  let bytes = 0;
  for (const dir of await projectAgentDirs(root)) {
    for (const file of await markdownFiles(dir)) {
      const path = relative(root, file).split(sep).join('/');
      const content = await readFile(file, 'utf8').catch(() => undefined);
      if (content === undefined) continue;
      if (bytes + content.length > AGENT_SNAPSHOT_LIMIT) {
        skipped.push(path);
        continue;
      }
      bytes += content.length;
      files.push({ path, content });
    }
  }
  return { files, skipped };
}

/** The catalog of a run's snapshot: `extraDirs` from disk first, then the snapshot's files (named as in the project folder). */
export async function catalogFromSnapshot(
  projectRoot: string,
  snapshot: AgentFileSnapshot[],
  extraDirs: string[] = [],
  cache?: AgentFileCache,
): Promise<AgentCatalog> {
  const catalog = await catalogOf(extraDirs, cache);
  for (const f of snapshot) {
    try {
      const def = parseAgentFile(f.content, join(projectRoot, f.path));
      catalog.agents.set(def.name, def);
    } catch (error) {
      catalog.errors.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return catalog;
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
