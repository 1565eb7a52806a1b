import type { Logger } from '../core/util/logger.ts';
import { consoleLogger } from '../core/util/logger.ts';
import { redisUrlFrom } from '../core/queue/redis-url.ts';
import { findProjectRoot, resolveStateDir } from './state-location.ts';

/** Options every command shares. */
export interface GlobalOptions {
  state?: string;
  json?: boolean;
  verbose?: boolean;
  /** BullMQ mode (or `$ORCHESTR8_REDIS_URL`): tasks go to `orchestr8 worker` processes through this Redis. */
  redis?: string;
}

export interface CliContext {
  projectRoot: string;
  stateDir: string;
  json: boolean;
  /** Set in BullMQ mode. */
  redisUrl?: string;
  logger: Logger;
  out(text: string): void;
}

export function cliContext(options: GlobalOptions): CliContext {
  const projectRoot = findProjectRoot(process.cwd());
  return {
    projectRoot,
    stateDir: resolveStateDir(options.state, projectRoot),
    json: options.json ?? false,
    redisUrl: redisUrlFrom(options.redis),
    logger: consoleLogger('orchestr8', options.verbose ?? false),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
