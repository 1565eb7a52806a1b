import type { ServerResponse } from 'node:http';
import type { EngineEvent } from '../../core/model/events.ts';
import type { Disposable } from '../../core/util/disposable.ts';

/** Which events one SSE client wants. */
export interface EventFilter {
  runId?: string;
  /** Include live `task.progress` output (chatty; off by default). */
  progress: boolean;
}

/** Where a reconnecting client resumes: the durable events after `after` come first. */
export interface EventReplay {
  /** The last seq the client saw (its Last-Event-ID, or `?after=`). */
  after: number;
  /** One page of durable events after `seq`, oldest first; `next` is where the following page starts. */
  read(seq: number): Promise<{ events: EngineEvent[]; next: number }>;
}

function runIdOf(event: EngineEvent): string | undefined {
  if ('run' in event) return event.run.id;
  if ('task' in event) return event.task.runId;
  if ('runId' in event) return event.runId;
  return undefined;
}

/**
 * One server-sent-events client: each engine event as `event: <type>` with its JSON, `id:`
 * its journal seq (events that are not persisted, like `task.progress`, carry none, so the
 * client's Last-Event-ID stays on the last durable one), and a comment line every
 * `heartbeatMs` so proxies and clients see the stream alive.
 *
 * With `replay`, the client first gets what it missed: it is subscribed before the durable
 * table is read, live events wait in a buffer while pages of the table are sent, then those
 * above the last replayed seq follow. So nothing falls between replay and live, and nothing
 * is sent twice.
 */
export function openEventStream(
  res: ServerResponse,
  subscribe: (listener: (event: EngineEvent) => void) => Disposable,
  filter: EventFilter,
  heartbeatMs = 15_000,
  replay?: EventReplay,
): Disposable {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  res.write(': orchestr8 events\n\n');
  /** The highest seq sent (or replayed): a sequenced event at or below it is a duplicate. */
  let cursor = replay?.after ?? 0;
  let buffered: EngineEvent[] | undefined = replay ? [] : undefined;
  const send = (event: EngineEvent) => {
    if (event.seq !== undefined) {
      if (event.seq <= cursor) return;
      cursor = event.seq;
    }
    if (event.type === 'task.progress' && !filter.progress) return;
    // Removals and storage pauses concern every run.
    if (filter.runId && runIdOf(event) !== filter.runId && event.type !== 'workflow.removed' && event.type !== 'engine.storage') return;
    res.write(`${event.seq !== undefined ? `id: ${event.seq}\n` : ''}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  const sub = subscribe((event) => (buffered ? buffered.push(event) : send(event)));
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
  if (replay) {
    void (async () => {
      for (let from = replay.after; !res.writableEnded; ) {
        const page = await replay.read(from);
        for (const event of page.events) send(event);
        if (page.next <= from) break;
        from = page.next;
      }
      const live = buffered ?? [];
      buffered = undefined;
      for (const event of live) send(event);
    })().catch(() => stop.dispose()); // the client reconnects with its Last-Event-ID and gets the rest
  }
  return stop;
}
