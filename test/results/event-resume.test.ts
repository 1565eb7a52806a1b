import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { ApiClient } from '../../src/servers/http/api-client.ts';
import { ApiServer } from '../../src/servers/http/api-server.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

interface SseMessage {
  id?: number;
  event: string;
  data: EngineEvent;
}

/** Reads `/v1/events` over real HTTP until `until` holds for a message, then hangs up. */
async function readStream(
  url: string,
  headers: Record<string, string>,
  until: (m: SseMessage, all: SseMessage[]) => boolean,
  started?: () => void,
): Promise<SseMessage[]> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  started?.();
  const messages: SseMessage[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        const data = field('data');
        if (!data) continue;
        const id = field('id');
        const message: SseMessage = { event: field('event')!, data: JSON.parse(data) as EngineEvent, ...(id !== undefined ? { id: Number(id) } : {}) };
        messages.push(message);
        if (until(message, messages)) return messages;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return messages;
}

const { engine, stateDir, cwd } = await openEngine();
const heard: EngineEvent[] = [];
engine.onEvent((e) => heard.push(e));
const server = await ApiServer.start({ engine, stateDir, cwd });
after(() => server.close());
const auth = { authorization: `Bearer ${server.token}` };

async function runOne(): Promise<string> {
  const { runId } = await engine.launch({ task: { action: { kind: 'noop' } } });
  await runFinished(engine, runId);
  return runId;
}

const finishes = (runId: string) => (m: SseMessage) => m.event === 'workflow.completed' && 'run' in m.data && m.data.run.id === runId;
const seqsAfter = (seq: number) => heard.filter((e) => e.seq !== undefined && e.seq > seq).map((e) => e.seq);

test('every /v1/events message has its journal seq as id; Last-Event-ID (or ?after=) replays exactly what was missed, then goes live', async () => {
  // Events 1..N heard live, then the client goes away.
  const live = await readStream(
    `${server.url}/v1/events`,
    auth,
    (m) => m.event === 'workflow.completed',
    () => void runOne(),
  );
  assert.ok(live.length >= 4);
  assert.ok(
    live.every((m) => m.id === m.data.seq && m.id !== undefined),
    'each message carries the seq of its event',
  );
  const lastSeen = live[live.length - 1]!.id!;

  // Missed while disconnected.
  const missedRuns = [await runOne(), await runOne(), await runOne()];
  const missed = seqsAfter(lastSeen);
  assert.ok(missed.length >= 12);

  // Reconnect while more runs launch: replayed ones, then live ones, no gap and no duplicate.
  let more: Promise<string[]> = Promise.resolve([]);
  const resumed = await readStream(
    `${server.url}/v1/events`,
    { ...auth, 'last-event-id': String(lastSeen) },
    (_m, all) => all.filter((x) => x.event === 'workflow.completed').length === 5,
    () => (more = Promise.all([runOne(), runOne()])),
  );
  const liveRuns = await more;
  const ids = resumed.map((m) => m.id);
  assert.deepEqual(ids, seqsAfter(lastSeen), 'exactly the events after Last-Event-ID, oldest first');
  assert.deepEqual(ids.slice(0, missed.length), missed);
  const replayedRuns = resumed.filter((m) => m.data.replayed && m.event === 'workflow.completed').map((m) => 'run' in m.data && m.data.run.id);
  assert.deepEqual(replayedRuns.slice(0, missedRuns.length), missedRuns, 'what was missed is replayed (rebuilt from rows, flagged replayed)');
  // Runs launched as the stream opened may finish while the replay is still read: replayed too, never twice (the ids above).
  assert.ok(
    replayedRuns.slice(missedRuns.length).every((id) => typeof id === 'string' && liveRuns.includes(id)),
    `only runs launched during the replay besides: ${replayedRuns}`,
  );
  const replayedTask = resumed.find((m) => m.event === 'task.completed' && m.data.replayed)!.data;
  assert.ok(replayedTask.type === 'task.completed' && replayedTask.result && replayedTask.task.state === 'completed', 'a replayed event is a full event');
  assert.ok(liveRuns.every((id) => resumed.some((m) => finishes(id)(m))));

  // ?after= does the same for clients that cannot set headers.
  const cut = missed[3]!;
  const viaQuery = await readStream(`${server.url}/v1/events?after=${cut}`, auth, (m) => finishes(liveRuns[1]!)(m));
  assert.deepEqual(
    viaQuery.map((m) => m.id),
    seqsAfter(cut),
  );

  const bad = await fetch(`${server.url}/v1/events`, { headers: { ...auth, 'last-event-id': 'yesterday' } });
  assert.equal(bad.status, 400);
});

test('ApiClient.followEvents reconnects with the seq it heard last and hears the missed events once, in order', async () => {
  const discoveryDir = tempDir('o8-api-');
  const own = await ApiServer.start({ engine, stateDir: discoveryDir, cwd, token: 'follow-token' });
  const client = new ApiClient({ url: own.url, token: 'follow-token' });
  after(() => client.dispose());
  const got: EngineEvent[] = [];
  const sub = client.followEvents((e) => got.push(e));
  await sub.connected;
  const from = heard[heard.length - 1]?.seq ?? 0;
  await runOne();
  await own.close(); // the stream drops
  const whileAway = await runOne();
  const again = await ApiServer.start({ engine, stateDir: discoveryDir, cwd, token: 'follow-token', port: own.port });
  after(() => again.close());
  const deadline = Date.now() + 10_000;
  while (!got.some((e) => e.type === 'workflow.completed' && e.run.id === whileAway) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const last = await runOne();
  while (!got.some((e) => e.type === 'workflow.completed' && e.run.id === last) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    got.filter((e) => e.seq !== undefined).map((e) => e.seq),
    seqsAfter(from),
  );
  assert.equal(sub.lastSeq, heard[heard.length - 1]!.seq);
  sub.dispose();
});
