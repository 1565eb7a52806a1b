import fs from 'node:fs';
import path from 'node:path';
import type { EngineApi, LaunchRequest } from '../core/engine/engine-api.ts';
import { NotFoundError } from '../core/engine/errors.ts';
import { fsyncDir, writeFileAtomic } from '../core/store/fs-durable.ts';
import { crashPoint } from '../core/util/crash-points.ts';
import type { Logger } from '../core/util/logger.ts';

/** A launch handed over through the inbox: the caller chose its run id and has printed it already. */
export type InboxRequest = LaunchRequest & { id: string };

/**
 * Launches made durable before any owner is there to take them: `launch` writes one file per
 * request into `<state>/inbox/` and prints its id at once instead of waiting seconds for an
 * owner to open the store. Every owner the CLI opens takes the inbox in as it starts and
 * while it lives (see `watchInbox`).
 */
export function inboxDir(stateDir: string): string {
  return path.join(stateDir, 'inbox');
}

/** Writes the request durably (temp file fsynced, renamed, folder fsynced) under its run id. */
export async function postToInbox(stateDir: string, request: InboxRequest): Promise<void> {
  const dir = inboxDir(stateDir);
  // The state folder holds task output: private to the user, like the rest of it.
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path.join(dir, `${request.id}.json`), Buffer.from(JSON.stringify(request)));
  fsyncDir(path.dirname(dir));
}

/**
 * Launches every request in the inbox with its own id, then removes its file. Exactly once:
 * the file goes only after the launch is durable, and a request whose run exists already
 * (the owner died between the two) is only removed. A request the engine refuses is kept
 * aside as `<id>.rejected` with the reason logged, so it is not retried at every start.
 * Resolves with the number of runs launched.
 */
export async function takeInbox(stateDir: string, engine: EngineApi, logger: Logger): Promise<number> {
  const dir = inboxDir(stateDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return 0; // no inbox yet
  }
  let launched = 0;
  // Oldest first, so runs start in the order they were launched.
  const files = names.map((name) => path.join(dir, name)).sort((a, b) => mtime(a) - mtime(b));
  for (const file of files) {
    let request: InboxRequest;
    try {
      request = JSON.parse(fs.readFileSync(file, 'utf8')) as InboxRequest;
    } catch {
      continue; // removed by another owner meanwhile (only one owner at a time, but a reader may race), or unreadable
    }
    if (!(await runExists(engine, request.id))) {
      try {
        await engine.launch(request);
        launched++;
        crashPoint('inbox.launched');
      } catch (error) {
        logger.error(`inbox: could not launch run ${request.id}: ${(error as Error).message}`);
        fs.renameSync(file, file.replace(/\.json$/, '.rejected'));
        continue;
      }
    }
    fs.rmSync(file, { force: true });
  }
  if (files.length > 0) fsyncDir(dir);
  return launched;
}

async function runExists(engine: EngineApi, runId: string): Promise<boolean> {
  try {
    return (await engine.status(runId)).run.id === runId;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Takes the inbox in now and then every `intervalMs` while the owner lives: a `launch` that
 * looked for an owner's API just before this owner published it still gets its run.
 * The returned function stops it (and waits for an intake under way).
 */
export async function watchInbox(stateDir: string, engine: EngineApi, logger: Logger, intervalMs = 500): Promise<() => Promise<void>> {
  // A failed intake is logged and tried again at the next tick; it never stops the owner from opening.
  const take = () => takeInbox(stateDir, engine, logger).catch((error: unknown) => logger.error(`inbox: ${(error as Error).message}`));
  let current: Promise<unknown> = take();
  await current;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // a slow intake is not queued behind itself
    busy = true;
    current = take().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current.catch(() => {});
  };
}
