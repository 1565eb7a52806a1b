import type { StateBackend } from '../store/backend.ts';
import type { TaskExecutor } from '../runners/task-executor.ts';
import type { TaskRunner } from '../runners/task-runner.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import type { RunHooks } from './run-hooks.ts';

/** How an owning engine is opened (`Engine.open`). */
export interface EngineOptions {
  /** Folder of the durable state (the extension passes its workspace storage). */
  stateDir: string;
  /** Default working folder of runs (the project). */
  cwd: string;
  /** Runners beyond the built-in `run` (shell) and `noop` ones, e.g. the agent runner. */
  runners?: TaskRunner[];
  /** Where tasks execute; defaults to this process with `concurrency` slots. */
  executor?: TaskExecutor;
  /** Tasks of all runs at once in the default executor (default: number of CPUs, at least 2). */
  concurrency?: number;
  hooks?: RunHooks[];
  logger?: Logger;
  clock?: Clock;
  /** Names this process in the lock file, for errors other processes show. */
  command?: string;
  snapshotThreshold?: number;
  /** See `StoreOptions.indexWorker`. */
  indexWorker?: string;
  /**
   * Keep the state here instead of in `stateDir` (whose `logs/` still holds task output):
   * the in-memory twin (MemoryBackend) for fast tests. The engine closes it.
   */
  backend?: StateBackend;
  /** How long `close()` waits for interrupted tasks to stop (default 5 s). */
  shutdownGraceMs?: number;
  /**
   * How long `close()` waits for runs being finalized (a push, a pull request) before it
   * leaves them to the next owner, which finalizes them again (default 60 s).
   */
  finalizeGraceMs?: number;
  /**
   * How long a task in `needs-input` waits for an answer before its request is denied ("no
   * answer within …"; a budget request then stops the task). Default 0: it waits until answered.
   */
  inputTimeoutMs?: number;
}
