import * as vscode from 'vscode';
import type { Logger } from '../core/util/logger.ts';
import { loadRuntime } from './runtime-loader.ts';

/** One agent the "Launch Agent Task…" pick offers. */
export interface AgentChoice {
  name: string;
  description: string;
  model?: string;
}

/** Agent files (Claude Code format: markdown with YAML front matter) in the places the agent runner reads. */
const AGENT_GLOB = '{.orchestr8/agents,.claude/agents,plugins/*/agents}/**/*.md';

/** The project's agents by the `name` in their front matter; later sources override earlier ones. */
export async function listAgents(folder: vscode.WorkspaceFolder, logger: Logger): Promise<AgentChoice[]> {
  const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, AGENT_GLOB), undefined, 500);
  const agents = new Map<string, AgentChoice>();
  for (const uri of uris.sort((a, b) => a.path.localeCompare(b.path))) {
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
      const front = match ? (loadRuntime().parseYaml(match[1]!) as Record<string, unknown> | null) : null;
      const name = typeof front?.['name'] === 'string' ? front['name'] : undefined;
      if (!name) continue;
      const model = typeof front?.['model'] === 'string' && front['model'] !== 'inherit' ? front['model'] : undefined;
      agents.set(name, { name, description: typeof front?.['description'] === 'string' ? front['description'] : '', ...(model ? { model } : {}) });
    } catch (error) {
      logger.warn(`agent file ${uri.fsPath} skipped: ${String(error)}`);
    }
  }
  return [...agents.values()].sort((a, b) => a.name.localeCompare(b.name));
}
