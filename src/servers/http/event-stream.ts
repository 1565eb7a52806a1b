import type { ServerResponse } from 'node:http';
import type { EngineEvent } from '../../core/model/events.ts';
import type { Disposable } from '../../core/util/disposable.ts';

/** Which events one SSE client wants. */
export interface EventFilter {
  runId?: string;
  /** Include live `task.progress` output (chatty; off by default). */
  progress: boolean;
}

function runIdOf(event: EngineEvent): string | undefined {
  if ('run' in event) return event.run.id;
  if ('task' in event) return event.task.runId;
  if ('runId' in event) return event.runId;
  return undefined;
}

/**
 * One server-sent-events client: each engine event as `event: <type>` with its JSON,
 * and a comment line every `heartbeatMs` so proxies and clients see the stream alive.
 */
export function openEventStream(
  res: ServerResponse,
  subscribe: (listener: (event: EngineEvent) => void) => Disposable,
  filter: EventFilter,
  heartbeatMs = 15_000,
): Disposable {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  res.write(': orchestr8 events\n\n');
  let seq = 0;
  const sub = subscribe((event) => {
    if (event.type === 'task.progress' && !filter.progress) return;
    // Removals and storage pauses concern every run.
    if (filter.runId && runIdOf(event) !== filter.runId && event.type !== 'workflow.removed' && event.type !== 'engine.storage') return;
    res.write(`id: ${++seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const beat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  beat.unref();
  const stop = {
    dispose() {
      clearInterval(beat);
      sub.dispose();
      if (!res.writableEnded) res.end();
    },
  };
  res.on('close', () => stop.dispose());
  return stop;
}
