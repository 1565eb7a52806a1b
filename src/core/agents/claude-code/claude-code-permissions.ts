import { checkShellCommand, NO_RULES, type PermissionRules } from '../permissions/permission-rules.ts';
import { ToolRefusal, type WorkspaceGuard } from '../tools/workspace-guard.ts';

/**
 * Claude Code tools an agent file without `tools:` gets: reading, writing and editing files
 * in its folder, its todo list and its own sub-agents (whose tool calls come through the
 * same checks). Like our runtime, anything that runs commands or reaches the network
 * (Bash, WebFetch, WebSearch, MCP tools) must be named in the file.
 */
export const DEFAULT_CLAUDE_CODE_TOOLS: readonly string[] = ['Read', 'Write', 'Edit', 'MultiEdit', 'NotebookEdit', 'Glob', 'Grep', 'LS', 'TodoWrite', 'Task', 'Agent'];

/** Our tool names (as an agent file may use them) to Claude Code's. */
const FROM_OUR_NAMES: Readonly<Record<string, readonly string[]>> = {
  read_file: ['Read'],
  write_file: ['Write'],
  edit_file: ['Edit', 'MultiEdit'],
  list_files: ['Glob', 'LS'],
  search: ['Grep'],
  run_command: ['Bash'],
  launch_task: ['Task', 'Agent'],
};

/** Tools whose input names a file they change; the path must stay in the task folder. */
const WRITING_TOOLS: Readonly<Record<string, string>> = { Write: 'file_path', Edit: 'file_path', MultiEdit: 'file_path', NotebookEdit: 'notebook_path' };
/** Tools whose input names a file or folder they read; confined like our own file tools. */
const READING_TOOLS: Readonly<Record<string, string>> = { Read: 'file_path', Glob: 'path', Grep: 'path', LS: 'path' };

/** What one claude-code task may do: the tool names its agent file grants (Claude Code spelling). */
export class ClaudeCodeGrant {
  private constructor(
    /** Granted tool names; `mcp__server` grants every tool of that server. */
    readonly tools: readonly string[],
    private readonly guard: WorkspaceGuard,
    /** Allow / deny rules (`Bash(rm:*)`); a deny rule refuses a granted Bash call, as in our runtime. */
    private readonly rules: PermissionRules,
  ) {}

  /** From the agent file's `tools:` (Claude Code or our names); none: DEFAULT_CLAUDE_CODE_TOOLS. */
  static fromAgentTools(names: readonly string[] | undefined, guard: WorkspaceGuard, rules: PermissionRules = NO_RULES): ClaudeCodeGrant {
    if (names === undefined) return new ClaudeCodeGrant(DEFAULT_CLAUDE_CODE_TOOLS, guard, rules);
    const tools = new Set<string>();
    for (const name of names) for (const mapped of FROM_OUR_NAMES[name] ?? [name]) tools.add(mapped);
    return new ClaudeCodeGrant([...tools], guard, rules);
  }

  covers(toolName: string): boolean {
    return this.tools.some((t) => t === toolName || (t.startsWith('mcp__') && toolName.startsWith(`${t}__`)));
  }

  /**
   * Our decision on one tool call: undefined allows it, a string is the reason it is denied.
   * Called from both the PreToolUse hook (which runs even where the user's Claude Code
   * settings would allow the call without asking) and `canUseTool` (where Claude Code asks).
   */
  async check(toolName: string, input: Record<string, unknown>): Promise<string | undefined> {
    if (!this.covers(toolName)) {
      // Until tasks can wait for the user's answer (needs-input), what the grant does not cover is refused.
      return `Orchestr8 denied ${toolName}: this agent's file does not grant it (tools: ${this.tools.join(', ')}). Add it to the agent file's tools: to allow it.`;
    }
    if (toolName === 'Bash' && typeof input.command === 'string') {
      const verdict = checkShellCommand(input.command, this.rules);
      if (verdict.kind === 'deny') return `Orchestr8 denied Bash: the rule ${verdict.rule} refuses \`${input.command}\`.`;
    }
    const key = WRITING_TOOLS[toolName] ?? READING_TOOLS[toolName];
    const path = key ? input[key] : undefined;
    if (typeof path !== 'string' || path === '') return undefined;
    try {
      await this.guard.resolve(path);
      return undefined;
    } catch (error) {
      if (!(error instanceof ToolRefusal)) throw error;
      const verb = WRITING_TOOLS[toolName] ? 'write' : 'read';
      return `Orchestr8 denied ${toolName}: ${error.message.replace(/^refused: /, '')} (${this.guard.root}); agents may only ${verb} files in their task folder.`;
    }
  }
}
