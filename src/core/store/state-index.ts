import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import type { FollowNews } from './index-worker/index-core.ts';
import type { FromIndex, IndexQueries, Opened, QueryName, ToIndex, Written } from './index-worker/protocol.ts';
import { QUERY_NAMES } from './index-worker/protocol.ts';

export interface StateIndexOptions {
  logger?: Logger;
  /**
   * The built index worker (`dist/index-worker.cjs`). Default: the one beside this module when
   * bundled, else one bundled from the TypeScript sources on first use (tests, benchmarks).
   */
  script?: string;
}

/** Distributive: each message kind of the protocol without its request id. */
type Request = ToIndex extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/**
 * The main-thread side of the index worker (index-worker/worker.ts): every query of the
 * durable state, answered asynchronously by the one thread that runs SQL. Read-your-writes:
 * each query carries the seq of the last batch posted (`atLeast`) and the worker answers only
 * once it holds it, so a caller never sees a state older than what it was told.
 */
export class StateIndex {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** The last seq handed to the worker: what every query must see. */
  private posted = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly news = new Emitter<FollowNews>((error) => this.logger.error('index listener failed', error));
  /** Reader: the owner's records applied (with their events), a reload, or a changed owner. */
  readonly onNews = this.news.event;

  private constructor(
    private readonly worker: Worker,
    private readonly logger: Logger,
  ) {
    worker.on('message', (message: FromIndex) => this.received(message));
    worker.on('error', (error) => this.fail(new Error(`index worker failed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`index worker exited (${code})`)));
    worker.unref();
    for (const name of QUERY_NAMES) (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.query(name, args);
  }

  /**
   * Starts a worker and loads the folder in it: as the owner (`repair`: torn tails cut, damage
   * set aside; the caller holds the lock) or as a reader, following the journal if asked.
   */
  static async open(stateDir: string, mode: { repair: boolean; follow?: { pollMs?: number } }, options: StateIndexOptions = {}): Promise<{ index: StateIndex; opened: Opened }> {
    const index = new StateIndex(await startWorker(options.script), options.logger ?? silentLogger);
    try {
      const opened = (await index.ask({ type: 'open', stateDir, repair: mode.repair, ...(mode.follow ? { follow: mode.follow } : {}) })) as Opened;
      index.posted = Math.max(index.posted, opened.lastSeq);
      return { index, opened };
    } catch (error) {
      await index.worker.terminate();
      throw error;
    }
  }

  /** The seq every query waits for: the last batch posted. */
  get postedSeq(): number {
    return this.posted;
  }

  /**
   * Hands a durable batch to the worker: the journal frames as written, copied into a buffer of
   * their own that is moved (not cloned) across. Call it before anyone is told of the batch.
   */
  post(firstSeq: number, lastSeq: number, frames: Buffer): void {
    const copy = new Uint8Array(frames.byteLength);
    copy.set(frames);
    this.worker.postMessage({ type: 'apply', firstSeq, frames: copy } satisfies ToIndex, [copy.buffer]);
    this.posted = lastSeq;
  }

  /** One query; `atLeast` (default: everything posted) is the seq its answer must include. */
  query<K extends QueryName>(name: K, args: unknown[], atLeast = this.posted): ReturnType<IndexQueries[K]> {
    return this.ask({ type: 'query', name, args, atLeast }) as ReturnType<IndexQueries[K]>;
  }

  /** Writes a snapshot of everything posted so far, from the worker's database. */
  snapshot(stateDir: string): Promise<Written> {
    return this.ask({ type: 'snapshot', stateDir }) as Promise<Written>;
  }

  /** Reader: takes in what the journal holds now; resolves with the last seq held. */
  catchUp(): Promise<number> {
    return this.ask({ type: 'catch-up' }) as Promise<number>;
  }

  /** Answers what was asked before, then stops the worker; anything asked meanwhile or later is refused. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) await this.ask({ type: 'close' }).catch(() => {});
      this.fail(new Error('index is closed'));
      this.news.dispose();
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private ask(request: Request): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref(); // an answer is owed: keep the process alive for it
      this.worker.postMessage({ ...request, id } as ToIndex);
    });
  }

  private received(message: FromIndex): void {
    switch (message.type) {
      case 'reply':
      case 'failed': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.worker.unref();
        if (message.type === 'reply') waiter.resolve(message.value);
        else waiter.reject(new Error(message.message));
        return;
      }
      case 'log':
        this.logger[message.level](message.message);
        return;
      default:
        if (message.type !== 'owner-changed') this.posted = Math.max(this.posted, message.lastSeq);
        this.news.fire(message);
    }
  }

  /** From now on every question is refused with the first failure; those still unanswered are refused now. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}

// Every query, as a method of its own (assigned in the constructor).
export interface StateIndex extends IndexQueries {}

async function startWorker(script?: string): Promise<Worker> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = script ?? path.join(here, 'index-worker.cjs');
  if (fs.existsSync(bundled)) return new Worker(bundled);
  return new Worker(await bundleFromSources(), { eval: true });
}

let devBundle: Promise<string> | undefined;

/**
 * From source (tests, benchmarks): the worker bundled once per process with esbuild, in
 * memory. A worker that loads the TypeScript through tsx takes about a second to start;
 * this takes a tenth of that, and always runs the sources as they are now.
 */
function bundleFromSources(): Promise<string> {
  devBundle ??= (async () => {
    const entry = fileURLToPath(new URL('./index-worker/worker.ts', import.meta.url));
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      write: false,
      logLevel: 'silent',
      // sql.js finds its wasm in node_modules from the sources' own location.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(entry).href) },
    });
    return result.outputFiles[0]!.text;
  })();
  return devBundle;
}
