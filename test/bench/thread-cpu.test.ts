import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { clockTicksPerSecond, sampleThreadCpu, threadCpuSince } from '../../bench/thread-cpu.ts';

const skip = process.platform !== 'linux' && 'reads /proc';
const threadNames = fileURLToPath(new URL('../../bench/thread-names.mjs', import.meta.url));
const msPerTick = 1000 / clockTicksPerSecond();

/**
 * Keeps the calling thread busy until it has used `ms` of CPU by its own /proc clock (not wall
 * time: on a loaded machine a wall-clock spin may get little CPU). Source text, so a worker can
 * run it too.
 */
const SPIN = `(ms, msPerTick) => {
  const fs = require('node:fs');
  const cpu = () => { const f = fs.readFileSync('/proc/thread-self/stat', 'utf8'); const x = f.slice(f.lastIndexOf(') ') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * msPerTick; };
  const start = cpu();
  while (cpu() - start < ms) for (let i = 0; i < 1e5; i++);
}`;

test('CPU used on the main thread is counted as the engine thread, not as a worker', { skip }, async () => {
  const { createRequire } = await import('node:module');
  const spin = new Function('require', `return ${SPIN}`)(createRequire(import.meta.url)) as (ms: number, msPerTick: number) => void;
  const before = sampleThreadCpu();
  spin(200, msPerTick);
  const used = threadCpuSince(before);
  assert.ok(used);
  assert.ok(used.main >= 190, `main thread ${used.main} ms`);
  assert.ok(used.workers < 30, `workers ${used.workers} ms`);
  // The process total is read just before the threads: allow it one tick less.
  assert.ok(used.process >= used.main - msPerTick, `process ${used.process} ms, main ${used.main} ms`);
});

test('a worker thread that loads bench/thread-names.mjs is counted under workers', { skip }, async () => {
  // The preload the benches pass with --import, imported first thing in the worker.
  const worker = new Worker(
    `import(${JSON.stringify(threadNames)}).then(() => {
       const { parentPort } = require('node:worker_threads');
       const spin = ${SPIN};
       // 'on', not 'once': a listener keeps the worker alive; after the last one it would exit and its CPU leave the count.
       parentPort.on('message', ({ ms, msPerTick }) => { spin(ms, msPerTick); parentPort.postMessage('done'); });
       parentPort.postMessage('ready');
     });`,
    { eval: true },
  );
  try {
    await new Promise((resolve) => worker.once('message', resolve));
    const before = sampleThreadCpu();
    worker.postMessage({ ms: 200, msPerTick });
    await new Promise((resolve) => worker.once('message', resolve));
    const used = threadCpuSince(before);
    assert.ok(used);
    assert.ok(used.workers >= 190, `workers ${used.workers} ms (other ${used.other} ms, main ${used.main} ms, process ${used.process} ms)`);
    assert.ok(used.main < 100, `main ${used.main} ms`);
  } finally {
    await worker.terminate();
  }
});
