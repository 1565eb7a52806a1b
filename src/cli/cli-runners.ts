import { AgentRunner } from '../core/agents/agent-runner.ts';
import type { TaskRunner } from '../core/runners/task-runner.ts';
import type { CliContext } from './cli-context.ts';

/**
 * Runners the CLI adds to the built-in shell and no-op ones. The agent runner reads
 * ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL, if set) from the environment when an agent
 * task starts; without a key only agent tasks fail, with a message saying how to set it.
 * ORCHESTR8_AGENT_RUNTIME (`orchestr8` or `claude-code`) and ORCHESTR8_CLAUDE_CODE_PATH are
 * the CLI's twins of the settings orchestr8.agentRuntime and orchestr8.claudeCodePath.
 */
export function cliRunners(_ctx: CliContext): TaskRunner[] {
  return [
    new AgentRunner({
      runtime: () => process.env['ORCHESTR8_AGENT_RUNTIME'],
      claudeCodePath: () => process.env['ORCHESTR8_CLAUDE_CODE_PATH'],
    }),
  ];
}
