import type { Engine } from '../core/engine/engine.ts';
import type { RunHooks } from '../core/engine/run-hooks.ts';
import { resultsOptionsFromEnv, setupResults, type ResultsOptions } from '../core/results/results-setup.ts';
import { errorMessage, silentLogger, type Logger } from '../core/util/logger.ts';
import { ApiServer } from './http/api-server.ts';

/**
 * What a process that owns the state runs beside its engine: the results hooks (a git
 * worktree per run, commits, push, pull request, webhooks) and, for owners that live
 * longer than one command, the local HTTP API through which other processes command it.
 * Make one per `Engine.open`: the hooks wait for `start` before they finalize runs.
 */
export interface OwnerServices {
  /** Go into `Engine.open` (after any hooks of the caller's own). */
  readonly hooks: RunHooks[];
  /** Once the engine is open: attaches results and starts the API. Close what it returns before `engine.close()`. */
  start(engine: Engine): Promise<RunningOwnerServices>;
}

/** The services of an open engine. */
export interface RunningOwnerServices {
  /** The local API, when asked for and started. */
  readonly api: ApiServer | undefined;
  /** Stops the API (removing `api.json`) and lets webhook deliveries in flight be recorded. */
  close(): Promise<void>;
}

export interface OwnerServicesOptions {
  stateDir: string;
  /** Folder relative workflow paths of API requests resolve against (the project). */
  cwd: string;
  /** Serve the local API (127.0.0.1, random port, bearer token, `api.json` mode 0600). */
  api: boolean;
  /** Where GitHub and webhook settings come from: GITHUB_TOKEN, webhook URLs and secret, … (see `resultsOptionsFromEnv`). */
  env?: Record<string, string | undefined>;
  /** Results settings given directly (the extension's, from its settings and SecretStorage); overrides `env`. */
  results?: ResultsOptions;
  logger?: Logger;
}

export function ownerServices(options: OwnerServicesOptions): OwnerServices {
  const logger = options.logger ?? silentLogger;
  const results = setupResults(options.results ?? resultsOptionsFromEnv(options.stateDir, options.env ?? process.env, logger));
  return {
    hooks: [results.hooks],
    async start(engine) {
      const attachment = results.attach(engine);
      let api: ApiServer | undefined;
      if (options.api) {
        try {
          api = await ApiServer.start({ engine, stateDir: options.stateDir, cwd: options.cwd, logger });
        } catch (error) {
          // The owner still runs its tasks; only other processes cannot reach it (they say so).
          logger.warn(`the local API could not start: ${errorMessage(error)}`);
        }
      }
      return {
        api,
        close: async () => {
          await api?.close();
          await attachment.close();
        },
      };
    },
  };
}
