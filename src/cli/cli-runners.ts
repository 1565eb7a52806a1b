import { AgentRunner } from '../core/agents/agent-runner.ts';
import type { TaskRunner } from '../core/runners/task-runner.ts';
import type { CliContext } from './cli-context.ts';

/**
 * Runners the CLI adds to the built-in shell and no-op ones. The agent runner reads
 * ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL, if set) from the environment when an agent
 * task starts; without a key only agent tasks fail, with a message saying how to set it.
 */
export function cliRunners(_ctx: CliContext): TaskRunner[] {
  return [new AgentRunner()];
}
