// A following reader in a process of its own, for the follower tests that must freeze it
// (SIGSTOP) while an owner commits and folds: its index worker, which does the following, is a
// thread of this process, so a spawnSync in the test's own process would not freeze it.
// Prints `ready`, then `reloaded total=<runs>` and `completed <run> total=<runs>` as they happen.
import { ReadOnlyEngine } from '../../src/core/engine/read-only-engine.ts';

const [stateDir, pollMs] = process.argv.slice(2) as [string, string];
const reader = await ReadOnlyEngine.open(stateDir, { follow: true, pollMs: Number(pollMs) });
const total = async () => (await reader.list({ limit: 1 })).total;
reader.onDidReload(() => void total().then((n) => console.log(`reloaded total=${n}`)));
reader.onEvent((e) => {
  if (e.type === 'workflow.completed') void total().then((n) => console.log(`completed ${e.run.id} total=${n}`));
});
process.once('SIGTERM', () => void reader.close().then(() => process.exit(0)));
console.log('ready');
setInterval(() => {}, 1 << 30);
