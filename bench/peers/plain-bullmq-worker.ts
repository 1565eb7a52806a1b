/**
 * Peer (c) of the peers benchmark: a plain BullMQ Worker with no project code.
 * Runs in its own process, as an `orchestr8 worker` does, so (b) and (c) have the
 * same topology. Usage: plain-bullmq-worker.ts <redisUrl> <queue> <concurrency>
 */
import { Worker } from 'bullmq';

const [url, queue, concurrency] = process.argv.slice(2);
if (!url || !queue || !concurrency) throw new Error('usage: plain-bullmq-worker.ts <redisUrl> <queue> <concurrency>');

const worker = new Worker(queue, async () => 'ok', {
  connection: { url, maxRetriesPerRequest: null },
  concurrency: Number(concurrency),
});
worker.on('error', (e) => process.stderr.write(`plain worker: ${e.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
const stop = () => void worker.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
