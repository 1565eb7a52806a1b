import { checkShellCommand, NO_RULES, type PermissionRules } from '../permissions/permission-rules.ts';
import { ToolRefusal, type WorkspaceGuard } from '../tools/workspace-guard.ts';

/**
 * Claude Code tools an agent file without `tools:` gets: reading, writing and editing files
 * in its folder, its todo list and its own sub-agents (whose tool calls come through the
 * same checks). Like our runtime, anything that runs commands or reaches the network
 * (Bash, WebFetch, WebSearch, MCP tools) must be named in the file.
 */
export const DEFAULT_CLAUDE_CODE_TOOLS: readonly string[] = [
  'Read',
  'Write',
  'Edit',
  'MultiEdit',
  'NotebookEdit',
  'Glob',
  'Grep',
  'LS',
  'TodoWrite',
  'Task',
  'Agent',
];

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

/**
 * Our decision on one tool call: run it, refuse it (`message` is what the model reads), or ask
 * the user (a Bash command no allow rule covers: the task parks in needs-input).
 */
export type ToolDecision = { kind: 'allow' } | { kind: 'deny'; message: string } | { kind: 'ask'; command: string };

/** What one claude-code task may do: the tool names its agent file grants (Claude Code spelling). */
export class ClaudeCodeGrant {
  private constructor(
    /** Granted tool names; `mcp__server` grants every tool of that server. */
    readonly tools: readonly string[],
    private readonly guard: WorkspaceGuard,
    /**
     * Allow / deny rules (`Bash(rm:*)`): as in our runtime, a granted Bash call runs when an allow
     * rule covers it, is refused by a deny rule, and is asked about otherwise.
     */
    private readonly rules: PermissionRules,
  ) {}

  /** From the agent file's `tools:` (Claude Code or our names); none: DEFAULT_CLAUDE_CODE_TOOLS. */
  static fromAgentTools(names: readonly string[] | undefined, guard: WorkspaceGuard, rules: PermissionRules = NO_RULES): ClaudeCodeGrant {
    if (names === undefined) return new ClaudeCodeGrant(DEFAULT_CLAUDE_CODE_TOOLS, guard, rules);
    const tools = new Set<string>();
    // A rule written in `tools:` (`Bash(npm test:*)`) grants its tool; the rule itself is an allow rule (see AgentRunner.rules).
    for (const name of names) for (const mapped of FROM_OUR_NAMES[name] ?? [name.replace(/\(.*\)$/s, '').trim()]) tools.add(mapped);
    return new ClaudeCodeGrant([...tools], guard, rules);
  }

  covers(toolName: string): boolean {
    return this.tools.some((t) => t === toolName || (t.startsWith('mcp__') && toolName.startsWith(`${t}__`)));
  }

  /**
   * Our decision on one tool call. Called from both the PreToolUse hook (which runs even where
   * the user's Claude Code settings would allow the call without asking) and `canUseTool`
   * (where Claude Code asks).
   */
  async check(toolName: string, input: Record<string, unknown>): Promise<ToolDecision> {
    if (!this.covers(toolName)) {
      // Not offered to the model at all (Claude Code's `tools`); a call that still comes is refused, like an unknown tool in our runtime.
      return {
        kind: 'deny',
        message:
          `Orchestr8 denied ${toolName}: this agent's file does not grant it (tools: ${this.tools.join(', ')}). ` +
          `Add it to the agent file's tools: to allow it.`,
      };
    }
    if (toolName === 'Bash') {
      const command = typeof input.command === 'string' ? input.command : '';
      const verdict = checkShellCommand(command, this.rules);
      if (verdict.kind === 'deny') return { kind: 'deny', message: `Orchestr8 denied Bash: the rule ${verdict.rule} refuses \`${command}\`.` };
      return verdict.kind === 'allow' ? { kind: 'allow' } : { kind: 'ask', command };
    }
    const key = WRITING_TOOLS[toolName] ?? READING_TOOLS[toolName];
    const path = key ? input[key] : undefined;
    if (typeof path !== 'string' || path === '') return { kind: 'allow' };
    try {
      await this.guard.resolve(path);
      return { kind: 'allow' };
    } catch (error) {
      if (!(error instanceof ToolRefusal)) throw error;
      const verb = WRITING_TOOLS[toolName] ? 'write' : 'read';
      return {
        kind: 'deny',
        message:
          `Orchestr8 denied ${toolName}: ${error.message.replace(/^refused: /, '')} (${this.guard.root}); ` +
          `agents may only ${verb} files in their task folder.`,
      };
    }
  }
}
