// Child process for the store's crash tests: opens the state folder as its owner, commits
// `count` runs one by one, then takes a snapshot while it goes on committing, printing each
// id once it is acknowledged (durable). ORCHESTR8_CRASH_AT kills it at a chosen moment.
import { StateStore } from '../../src/core/store/state-store.ts';

const [stateDir, tag, count] = process.argv.slice(2) as [string, string, string];
const store = await StateStore.openOwner(stateDir, { snapshotThreshold: Number.MAX_SAFE_INTEGER });
let n = 0;
const commitNext = async () => {
  const id = `${tag}-${n++}`;
  await store.commit([{ t: 'run', run: { id, name: id, inputs: {}, state: 'running', single: false, cwd: '/tmp', createdAt: n } }]);
  process.stdout.write(`${JSON.stringify({ acked: id })}\n`);
};
while (n < Number(count)) await commitNext();
let snapshotting = true;
const snapshot = store.snapshot().finally(() => (snapshotting = false));
while (snapshotting) {
  await commitNext();
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await snapshot;
process.stdout.write(`${JSON.stringify({ snapshot: 'done' })}\n`);
await store.close();
