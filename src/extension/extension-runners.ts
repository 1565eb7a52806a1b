import type { TaskRunner } from '../core/runners/task-runner.ts';
import type { Logger } from '../core/util/logger.ts';

/** What runners beyond the engine's built-in ones (shell, no-op) may need from the extension. */
export interface RunnerSettings {
  /** Read from SecretStorage when an agent task starts, so a key set later applies without a restart; never stored or logged. */
  apiKey: () => Promise<string | undefined>;
  /** `orchestr8.defaultModel`: for agent tasks whose task and agent file name no model. */
  defaultModel: string;
  logger: Logger;
}

/**
 * Runners the extension adds to the built-in shell and no-op ones: the seam for the agent runner (the
 * CLI's twin is src/cli/cli-runners.ts). Until one is registered here, agent tasks fail at once with
 * the engine's "no runner for agent tasks" error, which the tree and the failure toast show.
 */
export function extensionRunners(_settings: RunnerSettings): TaskRunner[] {
  return [];
}
