import type { Budget } from '../core/model/input-request.ts';
import { AgentRunner } from '../core/agents/agent-runner.ts';
import type { TaskRunner } from '../core/runners/task-runner.ts';
import { sandboxedShell, type SandboxSettings } from '../core/sandbox/sandbox-settings.ts';
import type { Logger } from '../core/util/logger.ts';

/** What runners beyond the engine's built-in ones (shell, no-op) may need from the extension. */
export interface RunnerSettings {
  /**
   * Read from SecretStorage (else ANTHROPIC_API_KEY) when an agent task starts, so a key set later
   * applies without a restart; never stored or logged.
   */
  apiKey: () => Promise<string | undefined>;
  /** `orchestr8.defaultModel`: for agent tasks whose task and agent file name no model. */
  defaultModel: string;
  /** `orchestr8.anthropicBaseUrl`, read as each agent task starts; none: ANTHROPIC_BASE_URL, else the SDK's default. */
  baseUrl?: string | (() => string | undefined);
  /** An SDK warning (a deprecated model), once per model: the window shows it. */
  onWarning?: (warning: string) => void;
  /** `orchestr8.agentRuntime`, read as each agent task starts: the runtime of tasks whose task and agent file name none. */
  agentRuntime?: () => string | undefined;
  /** `orchestr8.claudeCodePath` (user settings only), read as each claude-code task starts. */
  claudeCodePath?: () => string | undefined;
  /** `orchestr8.sandbox.*`, read when the engine starts (the sandbox's network allow-list is per process). */
  sandbox?: SandboxSettings;
  /** `orchestr8.permissions.*`, read as each agent task starts. */
  permissions?: () => { allow: string[]; deny: string[] };
  /** `orchestr8.budget.*`, read as each agent task starts. */
  budget?: () => Budget | undefined;
  logger: Logger;
}

/**
 * Runners the extension adds to the built-in no-op one (the CLI's twin is
 * src/cli/cli-runners.ts): the agent runner, with the key from the window's SecretStorage,
 * and a shell runner with the sandbox settings in place of the built-in one.
 */
export function extensionRunners(settings: RunnerSettings): TaskRunner[] {
  const { sandbox, shellRunner } = sandboxedShell(settings.sandbox ?? { runTasks: false });
  return [
    new AgentRunner({
      apiKey: async () => (await settings.apiKey()) || process.env['ANTHROPIC_API_KEY'],
      defaultModel: settings.defaultModel,
      ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}),
      ...(settings.onWarning ? { onWarning: settings.onWarning } : {}),
      ...(settings.agentRuntime ? { runtime: settings.agentRuntime } : {}),
      ...(settings.claudeCodePath ? { claudeCodePath: settings.claudeCodePath } : {}),
      sandbox,
      ...(settings.permissions ? { permissions: settings.permissions } : {}),
      ...(settings.budget ? { budget: settings.budget } : {}),
    }),
    shellRunner,
  ];
}
