import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Emitter } from '../util/emitter.ts';
import type { Logger } from '../util/logger.ts';
import { errorMessage, silentLogger } from '../util/logger.ts';
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
  /**
   * Frame bytes handed to the worker and not yet taken in, past which `whenTakenIn` waits
   * (default 16 MiB): a worker that falls behind a burst, or is still loading, must not make the
   * owner hold an unbounded queue of batches in memory.
   */
  maxBehindBytes?: number;
  /** Worker deaths within RESPAWN_WINDOW_MS that are respawned before the index gives up (default 3). */
  maxRespawns?: number;
}

/** The index worker died or could not load the folder, and was not (or could no longer be) brought back. */
export class IndexUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexUnavailableError';
  }
}

/** Distributive: each message kind of the protocol without its request id. */
type Request = ToIndex extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;
type OpenRequest = Extract<Request, { type: 'open' }>;

/** A question to the worker not answered yet; kept so that a respawned worker can be asked again. */
interface Pending {
  request: Request;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const RESPAWN_WINDOW_MS = 60_000;
const DEFAULT_MAX_BEHIND_BYTES = 16 * 1024 * 1024;

/**
 * The main-thread side of the index worker (index-worker/worker.ts): every query of the
 * durable state, answered asynchronously by the one thread that runs SQL. Read-your-writes:
 * each query carries the seq of the last batch posted (`atLeast`) and the worker answers only
 * once it holds it, so a caller never sees a state older than what it was told.
 *
 * Everything the worker holds is on disk first (snapshots and the fsynced journal), so a worker
 * that dies (an uncaught error, out of memory) is started again from disk up to the last batch
 * posted, and the questions it owed are asked again; a query is never lost nor answered from
 * less than it must see. Only a worker that keeps dying is given up on: every question then
 * fails with IndexUnavailableError.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below lists the query methods the constructor assigns.
export class StateIndex {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The last seq handed to the worker: what every query must see. */
  private posted = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  /** Frame bytes posted and not yet taken in by the worker (see maxBehindBytes). */
  private behind = 0;
  private behindWaiters: (() => void)[] = [];
  private deaths: number[] = [];
  /** Between a worker's death and its successor's start: questions and batches wait (see died). */
  private respawning = false;
  private worker!: Worker;
  private readonly news = new Emitter<FollowNews>((error) => this.logger.error('index listener failed', error));
  /** Reader: the owner's records applied (with their events), a reload, or a changed owner. */
  readonly onNews = this.news.event;
  /** The first full load of the folder (what the worker found), once done. */
  readonly loaded: Promise<Opened>;

  private constructor(
    worker: Worker,
    private readonly script: string | undefined,
    private readonly logger: Logger,
    /** How the folder is loaded; again after a respawn (then up to the last batch posted, for an owner). */
    private readonly openRequest: OpenRequest,
    private readonly options: StateIndexOptions,
  ) {
    for (const name of QUERY_NAMES) (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => this.query(name, args);
    this.attach(worker);
    this.loaded = this.ask(openRequest) as Promise<Opened>;
    this.loaded.catch(() => {}); // a failed load fails every question; those waiting on it hear of it there
  }

  /**
   * Starts a worker and loads the folder in it: as the owner (`repair`: torn tails cut, damage
   * set aside; the caller holds the lock) or as a reader, following the journal if asked.
   */
  static async open(
    stateDir: string,
    mode: { repair: boolean; follow?: { pollMs?: number } },
    options: StateIndexOptions = {},
  ): Promise<{ index: StateIndex; opened: Opened }> {
    const index = await StateIndex.start({ type: 'open', stateDir, repair: mode.repair, ...(mode.follow ? { follow: mode.follow } : {}) }, options);
    try {
      const opened = await index.loaded;
      index.posted = Math.max(index.posted, opened.lastSeq);
      return { index, opened };
    } catch (error) {
      await index.worker.terminate();
      throw error;
    }
  }

  /**
   * Starts a worker loading the folder behind an owner that is at work already: the journal up
   * to `journalUpTo` was read and repaired by the owner (quick-open.ts), and every batch posted
   * from now on is applied after the load, in order. Queries asked meanwhile wait for the load.
   */
  static async loadBehind(stateDir: string, journalUpTo: number, options: StateIndexOptions = {}): Promise<StateIndex> {
    const index = await StateIndex.start({ type: 'open', stateDir, repair: true, journalUpTo }, options);
    index.posted = journalUpTo;
    index.loaded.catch((error) => index.logger.error(`the state index could not load ${stateDir} (queries fail; the journal is intact)`, error));
    return index;
  }

  private static async start(request: OpenRequest, options: StateIndexOptions): Promise<StateIndex> {
    return new StateIndex(await startWorker(options.script), options.script, options.logger ?? silentLogger, request, options);
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
    this.posted = lastSeq;
    // No worker to hand it to: a dead one's successor reads it from the journal (up to `posted`).
    if (this.failure || this.respawning) return;
    const copy = new Uint8Array(frames.byteLength);
    copy.set(frames);
    this.behind += copy.byteLength;
    this.worker.postMessage({ type: 'apply', firstSeq, frames: copy } satisfies ToIndex, [copy.buffer]);
  }

  /** Frame bytes posted that the worker has not taken in yet. */
  get behindBytes(): number {
    return this.behind;
  }

  /**
   * Resolves once the worker is within `maxBehindBytes` of what was posted (at once, usually).
   * The owner waits on it before its next journal write, so a burst the worker cannot keep up
   * with is slowed down instead of queued without bound; nothing is acknowledged earlier for it.
   */
  whenTakenIn(): Promise<void> | undefined {
    if (this.behind <= (this.options.maxBehindBytes ?? DEFAULT_MAX_BEHIND_BYTES) || this.failure) return undefined;
    this.worker.ref(); // the commit is owed the worker's progress: keep the process alive for it
    return new Promise((resolve) => this.behindWaiters.push(resolve));
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

  private attach(worker: Worker): void {
    this.worker = worker;
    // Whatever the old worker had not taken in is read from disk by this one (see died).
    this.behind = 0;
    this.releaseBehind();
    let gone = false;
    const death = (why: string) => {
      if (gone) return;
      gone = true; // an uncaught error is reported twice: as `error`, then as `exit`
      this.died(why);
    };
    worker.on('message', (message: FromIndex) => !gone && this.received(message));
    worker.on('error', (error) => death(`index worker failed: ${error.message}`));
    worker.on('exit', (code) => death(`index worker exited (${code})`));
    if (this.pending.size === 0) worker.unref();
  }

  private ask(request: Request): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { request, resolve, reject });
      if (this.respawning) return; // asked of the next worker once it has started
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
        if (this.pending.size === 0 && this.behindWaiters.length === 0) this.worker.unref();
        if (message.type === 'reply') waiter.resolve(message.value);
        else waiter.reject(new Error(message.message));
        return;
      }
      case 'taken':
        this.behind = Math.max(0, this.behind - message.bytes);
        this.releaseBehind();
        return;
      case 'log':
        this.logger[message.level](message.message);
        return;
      default:
        if (message.type !== 'owner-changed') this.posted = Math.max(this.posted, message.lastSeq);
        this.news.fire(message);
    }
  }

  /**
   * The worker is gone (not by close). Everything it held is on disk, so a new one loads the
   * folder again (an owner's up to the last batch posted) and is asked every question still
   * owed, in the order first asked; batches posted meanwhile queue behind the load. A reader
   * hears `reloaded`: events its old worker followed but had not told are not replayed.
   */
  private died(why: string): void {
    if (this.failure || this.closing) {
      this.fail(new IndexUnavailableError(why));
      return;
    }
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => now - t < RESPAWN_WINDOW_MS), now];
    if (this.deaths.length > (this.options.maxRespawns ?? 3)) {
      this.fail(new IndexUnavailableError(`${why}; it died ${this.deaths.length} times within ${RESPAWN_WINDOW_MS / 1000} s, so it is not started again`));
      return;
    }
    this.logger.error(`${why}; starting it again from the state folder (nothing is lost: everything it held is on disk)`);
    this.respawning = true;
    const settle = (worker: Worker | undefined, error?: unknown) => {
      this.respawning = false;
      // Everything owed, those asked while the new worker started included, in the order first asked.
      const owed = [...this.pending.values()];
      this.pending.clear();
      if (!worker) {
        this.fail(new IndexUnavailableError(`${why}; it could not be started again: ${errorMessage(error)}`));
        for (const waiter of owed) waiter.reject(this.failure!);
        return;
      }
      if (this.closing || this.failure) {
        for (const waiter of owed) waiter.reject(this.failure ?? new Error('index is closed'));
        return void worker.terminate();
      }
      this.attach(worker);
      const reopen: OpenRequest = this.openRequest.repair ? { ...this.openRequest, journalUpTo: this.posted } : this.openRequest;
      const reopened = this.ask(reopen) as Promise<Opened>;
      if (!this.openRequest.repair)
        reopened.then(
          (opened) => this.news.fire({ type: 'reloaded', lastSeq: opened.lastSeq }),
          () => {},
        );
      for (const waiter of owed) {
        // The first load (`loaded`) is owed the new load's answer; every other question is asked again.
        if (waiter.request.type === 'open') reopened.then(waiter.resolve, waiter.reject);
        else this.ask(waiter.request).then(waiter.resolve, waiter.reject);
      }
    };
    startWorker(this.script).then(settle, (error) => settle(undefined, error));
  }

  private releaseBehind(): void {
    if (this.behind > (this.options.maxBehindBytes ?? DEFAULT_MAX_BEHIND_BYTES) && !this.failure) return;
    const waiters = this.behindWaiters;
    if (waiters.length === 0) return;
    this.behindWaiters = [];
    if (this.pending.size === 0) this.worker.unref();
    for (const resolve of waiters) resolve();
  }

  /** From now on every question is refused with the first failure; those still unanswered are refused now. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
    this.releaseBehind();
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
