/**
 * One peer of `npm run bench:peers` alone, so its process can be profiled or its CPU compared
 * run against run without the other peers' noise:
 *
 *   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx --import ./bench/thread-names.mjs bench/peers/one-peer.ts bullmq
 *
 * `bullmq` (default): the BullMQ-mode coordinator (this process) with one `orchestr8 worker`, Redis
 * at appendfsync always; `embedded`: the embedded engine; `remote-shaped`: the engine with an
 * executor that answers each task on a timer (start and completion in separate group commits, as
 * in BullMQ mode, but no queue). Env O8_PEERS_TASKS (3000), O8_PEERS_IN_FLIGHT (100).
 * Prints tasks/s, CPU ms per task per process and the engine process's threads.
 */
import { RedisServer } from '../../test/support/redis-server.ts';
import { remoteShapedExecutor, runBullmqMode, runEmbedded } from './engine-peer.ts';

const peer = process.argv[2] ?? 'bullmq';
const tasks = Number(process.env.O8_PEERS_TASKS ?? 3000);
const inFlight = Number(process.env.O8_PEERS_IN_FLIGHT ?? 100);
const redis = peer === 'bullmq' ? await RedisServer.start({ appendonly: true, appendfsync: 'always' }) : undefined;
try {
  const result = redis
    ? await runBullmqMode(redis.url, tasks, inFlight)
    : await runEmbedded(tasks, inFlight, peer === 'remote-shaped' ? remoteShapedExecutor(inFlight) : undefined);
  const cpu = Object.entries(result.cpu).map(([name, seconds]) => `${name} ${((seconds * 1000) / tasks).toFixed(3)}`);
  const t = result.engineThreads;
  process.stdout.write(
    `${result.peer}: ${result.tasksPerSecond.toFixed(0)} tasks/s; CPU ms per task: ${cpu.join(', ')}` +
      (t ? ` (engine process by thread: main ${t.main.toFixed(3)}, workers ${t.workers.toFixed(3)}, other ${t.other.toFixed(3)})` : '') +
      '\n',
  );
} finally {
  await redis?.dispose();
}
