import path from 'node:path';
import type { IndexQueries, QueryName } from '../store/index-worker/protocol.ts';
import { QUERY_NAMES } from '../store/index-worker/protocol.ts';
import { IndexCore } from '../store/index-worker/index-core.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { QueryFacade } from './query-facade.ts';
import { StateQueries } from './state-queries.ts';
import { TaskLogs } from './task-logs.ts';

/**
 * A one-shot read of a state folder in this thread: the snapshot and journal are loaded here,
 * as of now, and the read half of the engine API answers from them. For short-lived processes
 * only (a CLI `status`, `result`, `log`): starting an index worker is most of such a command's
 * time, while a long-lived thread that must stay responsive (a window's extension host) uses
 * ReadOnlyEngine, whose worker loads and follows. Writes nothing; does not follow the owner.
 */
export class StateView extends QueryFacade {
  private constructor(
    private readonly core: IndexCore,
    stateDir: string,
  ) {
    super(new StateQueries(inThread(core), new TaskLogs(path.join(stateDir, 'logs'))));
  }

  static async open(stateDir: string, logger: Logger = silentLogger): Promise<StateView> {
    const { core } = await IndexCore.load(stateDir, false, logger);
    return new StateView(core, stateDir);
  }

  async close(): Promise<void> {
    this.core.close();
  }
}

function inThread(core: IndexCore): IndexQueries {
  const index = {} as Record<QueryName, (...args: unknown[]) => Promise<unknown>>;
  for (const name of QUERY_NAMES) index[name] = async (...args) => core.query(name, args);
  return index as unknown as IndexQueries;
}
