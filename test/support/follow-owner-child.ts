// Child owner for the follower tests: opens the state folder as owner and commits runs
// `<tag>-<from>` … `<tag>-<to - 1>`, each with its `workflow.completed` event, taking a
// snapshot after every `snapshotEvery` of them (0: none). Run with spawnSync, so the test's
// own event loop is frozen meanwhile (a reader's index worker is not: see follow-reader-child.ts).
import { StateStore } from '../../src/core/store/state-store.ts';

const [stateDir, tag, from, to, snapshotEvery] = process.argv.slice(2) as [string, string, string, string, string];
const store = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER, command: 'follow-owner-child' });
for (let n = Number(from); n < Number(to); n++) {
  const id = `${tag}-${n}`;
  await store.commit([
    { t: 'run', run: { id, name: id, inputs: {}, state: 'completed', single: false, cwd: '/tmp', createdAt: n } },
    { t: 'event', event: { type: 'workflow.completed', at: Date.now(), runId: id } },
  ]);
  if (Number(snapshotEvery) > 0 && (n + 1) % Number(snapshotEvery) === 0) await store.snapshot();
}
await store.close();
