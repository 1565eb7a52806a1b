import type { AgentTool } from './agent-tool.ts';
import { FILE_TOOLS } from './file-tools.ts';
import { recordVerdictTool } from './record-verdict-tool.ts';
import { runCommandTool } from './run-command-tool.ts';
import { SUB_TASK_TOOLS } from './sub-task-tools.ts';

const ALL: readonly AgentTool[] = [...FILE_TOOLS, runCommandTool, ...SUB_TASK_TOOLS, recordVerdictTool];
const BY_NAME = new Map(ALL.map((t) => [t.name, t]));

/**
 * Claude Code tool names (as written in `.claude/agents/*.md`) and the tools they grant.
 * `Task`/`Agent` is Claude Code's sub-agent tool; here it grants the async sub-task tools.
 */
const CLAUDE_CODE_NAMES: Readonly<Record<string, readonly string[]>> = {
  Read: ['read_file'],
  Write: ['write_file'],
  Edit: ['edit_file'],
  MultiEdit: ['edit_file'],
  Glob: ['list_files'],
  LS: ['list_files'],
  Grep: ['search'],
  Bash: ['run_command'],
  Task: SUB_TASK_TOOLS.map((t) => t.name),
  Agent: SUB_TASK_TOOLS.map((t) => t.name),
};

export interface ToolSelection {
  tools: AgentTool[];
  /** Names in the agent file that map to nothing here (WebFetch, mcp__…); reported, not fatal. */
  ignored: string[];
}

/**
 * The tools an agent gets. No `tools` in its file: everything except `run_command`,
 * because a shell is the one tool that can reach outside the folder, so it must be
 * granted by name (`Bash` or `run_command`). `record_verdict` is always offered.
 */
export function selectTools(names: readonly string[] | undefined): ToolSelection {
  if (names === undefined) return { tools: ALL.filter((t) => t !== runCommandTool), ignored: [] };
  const chosen = new Set<string>([recordVerdictTool.name]);
  const ignored: string[] = [];
  for (const written of names) {
    // `Bash(npm test:*)` grants the tool; the rule in it is an allow rule (see permission-rules.ts).
    const name = written.replace(/\(.*\)$/s, '').trim();
    const mapped = CLAUDE_CODE_NAMES[name] ?? (BY_NAME.has(name) ? [name] : undefined);
    if (mapped) for (const m of mapped) chosen.add(m);
    else ignored.push(written);
  }
  return { tools: ALL.filter((t) => chosen.has(t.name)), ignored };
}
