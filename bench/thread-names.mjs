/**
 * Loaded with `node --import ./bench/thread-names.mjs` by the benches (plain JavaScript: in a worker
 * thread the preload runs before tsx can compile TypeScript): worker threads inherit the
 * flag, so every JavaScript worker thread (the sql.js / snapshot worker) names itself
 * `js-worker-<threadId>` in /proc, and bench/thread-cpu.ts can tell its CPU from V8's and libuv's
 * threads, which are all called `node`. Linux only; elsewhere it does nothing.
 */
import fs from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

if (!isMainThread) {
  try {
    fs.writeFileSync('/proc/thread-self/comm', `js-worker-${threadId}`);
  } catch {
    // Not Linux, or /proc is not mounted: the thread stays unnamed and counts as "other".
  }
}
