import type { AgentRuntimeName } from './agent-runtime.ts';

/** One agent, as read from a markdown file with YAML frontmatter (Claude Code / Orchestr8 format). */
export interface AgentDefinition {
  name: string;
  description: string;
  /** Model id as written; `undefined` for `inherit` or no model (the configured default applies). */
  model?: string;
  /**
   * Tool names as written (Claude Code names like `Read, Bash` or ours like `read_file`);
   * `undefined` when the file names none, which grants every tool except the shell.
   */
  tools?: string[];
  maxTurns?: number;
  /** `runtime:` in the frontmatter; the task's own `runtime` wins over it. */
  runtime?: AgentRuntimeName;
  temperature?: number;
  /** `permissions: { allow, deny }`: rules for its tool calls, Claude Code's spelling (`Bash(npm test:*)`). */
  permissions?: { allow?: string[]; deny?: string[] };
  /** The markdown body. */
  systemPrompt: string;
  /** Absolute path of the file it came from. */
  file: string;
}
