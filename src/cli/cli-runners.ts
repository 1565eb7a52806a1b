import type { TaskRunner } from '../core/runners/task-runner.ts';
import type { CliContext } from './cli-context.ts';

/** Runners the CLI adds to the built-in shell and no-op ones. */
export function cliRunners(_ctx: CliContext): TaskRunner[] {
  return [];
}
