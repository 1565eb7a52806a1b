import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchRequest, LaunchResult, SingleTaskSpec } from '../core/engine/engine-api.ts';
import { newRunId, taskId } from '../core/util/ids.ts';
import { liveOwner } from '../core/store/state-lock.ts';
import { ApiClient } from '../servers/http/api-client.ts';
import type { CliContext } from './cli-context.ts';
import { CliError, ExitCode } from './cli-error.ts';
import { postToInbox } from './launch-inbox.ts';

/** A single-task launch, as `launch` makes it. */
export type SingleTaskLaunch = { task: SingleTaskSpec; cwd?: string };

/** The key of the one task in a single-task run (the engine names it so): its task id is `<runId>.task`. */
const SINGLE_TASK_KEY = 'task';

/** What the background owner is asked on its stdin: a launch, or only to run the unfinished runs there are. */
export type OwnerRequest = LaunchRequest | { resume: true };

/** What the background owner answers on its stdout once the launch is durable (or the state is open, for `resume`). */
export type LaunchReply = { ok: true; result?: LaunchResult; resumed?: number } | { ok: false; error: string; code: number };

/**
 * Fire and forget from a terminal: hands the launch to the live owner of the state
 * through its local API (a foreground `run`, VS Code, an earlier background owner), or
 * else starts a detached `orchestr8 __serve` that owns the state, hands it the launch on
 * stdin, and returns as soon as it answers with the durable ids. The background owner
 * serves the API meanwhile and exits once no run is left.
 */
export async function launchInBackground(ctx: CliContext, request: LaunchRequest): Promise<LaunchResult> {
  const live = await launchThroughApi(ctx.stateDir, request);
  if (live) return live;
  try {
    return await spawnOwner(ctx, request);
  } catch (error) {
    // Someone else became the owner between our look and the spawn: use its API if it has one.
    if (error instanceof CliError && error.code === ExitCode.owned) {
      const late = await launchThroughApi(ctx.stateDir, request);
      if (late) return late;
    }
    throw error;
  }
}

/**
 * `launch` without waiting for an owner to open the store: through the live owner's API when
 * there is one (or through `launchInBackground` while an owner holds the lock); else the request goes durably into the inbox under a fresh run id, a
 * background owner is started to take it in (nothing waits for it), and the ids are known at
 * once. If that owner cannot start (another took over meanwhile), whichever owner opens the
 * state next launches it, with the same id.
 */
export async function postLaunch(ctx: CliContext, request: SingleTaskLaunch): Promise<LaunchResult> {
  const live = await launchThroughApi(ctx.stateDir, request);
  if (live) return live;
  // A live owner that did not answer (starting, or one with no API): the launch waits for it or says who it is.
  if (liveOwner(ctx.stateDir)) return launchInBackground(ctx, request);
  const runId = newRunId();
  await postToInbox(ctx.stateDir, { ...request, id: runId });
  startOwnerDetached(ctx);
  return { runId, taskIds: [taskId(runId, SINGLE_TASK_KEY)] };
}

/** Launches through the live owner's API; undefined when there is none, or it stopped before our request reached it. */
async function launchThroughApi(stateDir: string, request: LaunchRequest): Promise<LaunchResult | undefined> {
  const client = await ApiClient.connect(stateDir);
  if (!client) return undefined;
  try {
    return await client.launch(request);
  } catch (error) {
    // Refused connections never reached the owner (it was closing): nothing was launched. Any
    // other failure may have happened after the launch was durable, so it is not retried.
    if (connectionRefused(error)) return undefined;
    throw error;
  } finally {
    client.dispose();
  }
}

function connectionRefused(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return (e?.code ?? e?.cause?.code) === 'ECONNREFUSED';
}

/**
 * After a command changed the state without a live owner (a signal, a retry): starts the
 * background owner to run what is now ready. Resolves with the number of unfinished runs it took.
 */
export async function resumeInBackground(ctx: CliContext): Promise<number> {
  return (await spawnOwner(ctx, { resume: true })).resumed ?? 0;
}

/** Starts `orchestr8 __serve` with nothing on its stdin (it takes in the inbox and runs what is unfinished); waits for nothing. */
function startOwnerDetached(ctx: CliContext): void {
  const logFd = fs.openSync(path.join(ctx.stateDir, 'serve.log'), 'a', 0o600);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '__serve', '--state', ctx.stateDir], {
    cwd: ctx.projectRoot,
    env: ctx.redisUrl ? { ...process.env, ORCHESTR8_REDIS_URL: ctx.redisUrl } : process.env,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  child.unref();
}

async function spawnOwner(ctx: CliContext, request: LaunchRequest): Promise<LaunchResult>;
async function spawnOwner(ctx: CliContext, request: { resume: true }): Promise<{ resumed?: number }>;
async function spawnOwner(ctx: CliContext, request: OwnerRequest): Promise<LaunchResult | { resumed?: number }> {
  fs.mkdirSync(ctx.stateDir, { recursive: true });
  const logFd = fs.openSync(path.join(ctx.stateDir, 'serve.log'), 'a', 0o600);
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, script, '__serve', '--state', ctx.stateDir], {
    cwd: ctx.projectRoot,
    // BullMQ mode goes along in the environment, not argv, so the Redis password stays out of `ps`.
    env: ctx.redisUrl ? { ...process.env, ORCHESTR8_REDIS_URL: ctx.redisUrl } : process.env,
    detached: true,
    stdio: ['pipe', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  child.stdin!.end(JSON.stringify(request));
  const reply = await new Promise<LaunchReply>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as LaunchReply);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      reject(new CliError(`background owner exited (${code}) before launching; see ${path.join(ctx.stateDir, 'serve.log')}`, ExitCode.failed)),
    );
  });
  child.stdout!.destroy();
  child.unref();
  if (!reply.ok) throw new CliError(reply.error, reply.code);
  if ('resume' in request) return { ...(reply.resumed !== undefined ? { resumed: reply.resumed } : {}) };
  if (!reply.result) throw new CliError(`background owner answered without launch ids; see ${path.join(ctx.stateDir, 'serve.log')}`, ExitCode.failed);
  return reply.result;
}
