import type { Budget } from '../core/model/input-request.ts';
import { AgentRunner } from '../core/agents/agent-runner.ts';
import type { TaskRunner } from '../core/runners/task-runner.ts';
import { sandboxSettingsFromEnv, sandboxedShell } from '../core/sandbox/sandbox-settings.ts';

/**
 * Runners the CLI adds to the built-in no-op one. The agent runner reads ANTHROPIC_API_KEY
 * (and ANTHROPIC_BASE_URL, if set) from the environment when an agent task starts; without a
 * key only agent tasks fail, with a message saying how to set it. ORCHESTR8_AGENT_RUNTIME
 * (`orchestr8` or `claude-code`) and ORCHESTR8_CLAUDE_CODE_PATH are the CLI's twins of the
 * settings orchestr8.agentRuntime and orchestr8.claudeCodePath. The shell runner replaces the
 * built-in one to apply the `ORCHESTR8_SANDBOX_*` settings (see sandbox-settings.ts).
 * ORCHESTR8_PERMISSIONS (`{"allow":[…],"deny":[…]}`) and ORCHESTR8_BUDGET_USD / _TOKENS are the
 * twins of orchestr8.permissions.* and orchestr8.budget.* (see docs/human-in-the-loop.md).
 */
export function cliRunners(): TaskRunner[] {
  const { sandbox, shellRunner } = sandboxedShell(sandboxSettingsFromEnv());
  return [
    new AgentRunner({
      runtime: () => process.env['ORCHESTR8_AGENT_RUNTIME'],
      claudeCodePath: () => process.env['ORCHESTR8_CLAUDE_CODE_PATH'],
      sandbox,
      permissions: () => permissionsFromEnv(process.env),
      budget: () => budgetFromEnv(process.env),
    }),
    shellRunner,
  ];
}

/** `ORCHESTR8_PERMISSIONS`: `{"allow": ["Bash(npm test:*)"], "deny": [...]}`; unset or unreadable: none (and said once). */
export function permissionsFromEnv(env: NodeJS.ProcessEnv): { allow: string[]; deny: string[] } | undefined {
  const text = env['ORCHESTR8_PERMISSIONS'];
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as { allow?: unknown; deny?: unknown };
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string' && r.trim() !== '') : []);
    return { allow: list(value.allow), deny: list(value.deny) };
  } catch {
    if (!warned) process.stderr.write('orchestr8: ORCHESTR8_PERMISSIONS is not JSON like {"allow":["Bash(npm test:*)"]}; ignored\n');
    warned = true;
    return undefined;
  }
}
let warned = false;

/** `ORCHESTR8_BUDGET_USD` / `ORCHESTR8_BUDGET_TOKENS`: the default budget of agent tasks. */
export function budgetFromEnv(env: NodeJS.ProcessEnv): Budget | undefined {
  const usd = Number(env['ORCHESTR8_BUDGET_USD']);
  const tokens = Number(env['ORCHESTR8_BUDGET_TOKENS']);
  const budget: Budget = {};
  if (usd > 0) budget.usd = usd;
  if (tokens > 0) budget.tokens = Math.floor(tokens);
  return budget.usd !== undefined || budget.tokens !== undefined ? budget : undefined;
}
