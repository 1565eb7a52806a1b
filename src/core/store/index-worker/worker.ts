import { parentPort } from 'node:worker_threads';
import type { Logger } from '../../util/logger.ts';
import { errorMessage } from '../../util/logger.ts';
import { loadSqlJs } from '../sqljs-loader.ts';
import { IndexCore } from './index-core.ts';
import type { FromIndex, ToIndex } from './protocol.ts';

/**
 * The index worker: the one thread of a process that runs SQL. It loads the state folder,
 * applies the batches its owner posts after each group commit, answers queries once it holds
 * everything the asker had been told of, and writes snapshots from its own database (so no
 * second copy is kept anywhere). A reader's worker also tails the owner's journal.
 */
const port = parentPort!;
const send = (message: FromIndex) => port.postMessage(message);
const logger: Logger = {
  debug: (message) => send({ type: 'log', level: 'debug', message }),
  info: (message) => send({ type: 'log', level: 'info', message }),
  warn: (message) => send({ type: 'log', level: 'warn', message }),
  error: (message, error) => send({ type: 'log', level: 'error', message: error ? `${message}: ${errorMessage(error)}` : message }),
};

// Compiles sql.js's wasm while the first message arrives and the snapshot is read and verified.
void loadSqlJs();

let core: IndexCore | undefined;
/** Set when a durable batch could not be applied: the index is behind the journal, so every later query fails. */
let broken: Error | undefined;
/** Messages that came while the folder was loading: handled in order once it is. */
let backlog: ToIndex[] | undefined;

port.on('message', (message: ToIndex) => {
  if (backlog && message.type !== 'open') backlog.push(message);
  else handle(message);
});

function handle(message: ToIndex): void {
  switch (message.type) {
    case 'open':
      backlog = [];
      IndexCore.load(message.stateDir, message.repair, logger, message.journalUpTo).then(
        ({ core: loaded, opened }) => {
          core = loaded;
          if (message.follow) core.follow(message.stateDir, send, message.follow.pollMs);
          send({ type: 'reply', id: message.id, value: opened });
          const waiting = backlog ?? [];
          backlog = undefined;
          for (const next of waiting) handle(next);
        },
        (error) => {
          backlog = undefined;
          send({ type: 'failed', id: message.id, message: errorMessage(error) });
        },
      );
      return;
    case 'apply':
      tookIn(message.frames.byteLength);
      // A failure here is a bug (the batch was just written by this process); queries report it from then on.
      try {
        ready().applyFrames(message.firstSeq, message.frames);
      } catch (error) {
        logger.error('index: a durable batch could not be applied', error);
        broken = error as Error;
      }
      return;
    case 'query': {
      const { id, name, args, atLeast } = message;
      try {
        ready().whenAt(atLeast, () => answer(id, () => ready().query(name, args)));
      } catch (error) {
        send({ type: 'failed', id, message: errorMessage(error) });
      }
      return;
    }
    case 'snapshot':
      answerLater(message.id, () => ready().snapshot(message.stateDir));
      return;
    case 'catch-up':
      answerLater(message.id, () => ready().catchUp());
      return;
    case 'close':
      core?.close();
      core = undefined;
      send({ type: 'reply', id: message.id, value: undefined });
      return;
  }
}

let taken = 0;

/** Tells the owner how far behind it the worker is, once per turn however many batches came. */
function tookIn(bytes: number): void {
  if (taken === 0) {
    setImmediate(() => {
      send({ type: 'taken', bytes: taken });
      taken = 0;
    });
  }
  taken += bytes;
}

function ready(): IndexCore {
  if (broken) throw new Error(`index: ${broken.message}`);
  if (!core) throw new Error('index: not open');
  return core;
}

function answer(id: number, compute: () => unknown): void {
  try {
    send({ type: 'reply', id, value: compute() });
  } catch (error) {
    send({ type: 'failed', id, message: errorMessage(error) });
  }
}

function answerLater(id: number, compute: () => Promise<unknown>): void {
  Promise.resolve()
    .then(compute)
    .then(
      (value) => send({ type: 'reply', id, value }),
      (error) => send({ type: 'failed', id, message: errorMessage(error) }),
    );
}
