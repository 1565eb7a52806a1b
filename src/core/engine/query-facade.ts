import type { EngineApi } from './engine-api.ts';
import type { StateQueries } from './state-queries.ts';

/**
 * The read half of the engine API, answered by the StateQueries a facade holds, so the owning
 * engine and a read-only view answer alike. Arrow properties: front ends pass them around bound.
 */
export abstract class QueryFacade {
  protected constructor(protected readonly queries: StateQueries) {}

  readonly resolveRunId = (id: string): Promise<string> => this.queries.resolveRunId(id);
  readonly resolveTaskId = (id: string): Promise<string> => this.queries.resolveTaskId(id);
  readonly status: EngineApi['status'] = (runId) => this.queries.status(runId);
  readonly task: EngineApi['task'] = (taskId) => this.queries.task(taskId);
  readonly result: EngineApi['result'] = (taskId) => this.queries.result(taskId);
  readonly list: EngineApi['list'] = (options) => this.queries.list(options);
  readonly usage: EngineApi['usage'] = (id) => this.queries.usage(id);
  readonly gates: EngineApi['gates'] = (runId) => this.queries.gates(runId);
  readonly tokenUsage: EngineApi['tokenUsage'] = (taskId) => this.queries.tokenUsage(taskId);
  readonly log: EngineApi['log'] = (taskId) => this.queries.log(taskId);
  readonly transcript: EngineApi['transcript'] = (taskId) => this.queries.transcript(taskId);
  readonly undeliveredNotifications: EngineApi['undeliveredNotifications'] = () => this.queries.undeliveredNotifications();
  readonly eventsAfter: StateQueries['eventsAfter'] = (seq, limit) => this.queries.eventsAfter(seq, limit);
  readonly webhookDeliveries: StateQueries['webhookDeliveries'] = (state, limit) => this.queries.webhookDeliveries(state, limit);
}
