import type { Logger } from '../core/util/logger.ts';
import { consoleLogger } from '../core/util/logger.ts';
import { findProjectRoot, resolveStateDir } from './state-location.ts';

/** Options every command shares. */
export interface GlobalOptions {
  state?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface CliContext {
  projectRoot: string;
  stateDir: string;
  json: boolean;
  logger: Logger;
  out(text: string): void;
}

export function cliContext(options: GlobalOptions): CliContext {
  const projectRoot = findProjectRoot(process.cwd());
  return {
    projectRoot,
    stateDir: resolveStateDir(options.state, projectRoot),
    json: options.json ?? false,
    logger: consoleLogger('orchestr8', options.verbose ?? false),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
