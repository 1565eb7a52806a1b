import type { LaunchRequest } from '../../core/engine/engine-api.ts';
import type { Engine } from '../../core/engine/engine.ts';
import { StateOwnedError } from '../../core/store/state-lock.ts';
import { WorkflowError } from '../../core/workflow/workflow-error.ts';
import type { LaunchReply, OwnerRequest } from '../background-owner.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { openOwner, type OwnedState } from '../engine-access.ts';

/**
 * `orchestr8 __serve` (internal): the detached background owner behind `launch`
 * and `run --detach` (and behind commands that made tasks ready with no owner there).
 * Reads one launch request (or `{ resume: true }`) on stdin, answers on stdout once it
 * is durable, serves the local API (later launches, cancels and signals come that
 * way), and exits when no run is left unfinished.
 */
export async function serveCommand(options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  const reply = (r: LaunchReply) => process.stdout.write(`${JSON.stringify(r)}\n`);
  let request: OwnerRequest;
  try {
    // Nothing on stdin (started by a `launch` that posted to the inbox): take in the inbox and run what is unfinished.
    const text = await readStdin();
    request = text.trim() ? (JSON.parse(text) as OwnerRequest) : { resume: true };
  } catch (error) {
    reply({ ok: false, error: `bad launch request: ${(error as Error).message}`, code: ExitCode.usage });
    return ExitCode.usage;
  }
  let owned: OwnedState;
  try {
    owned = await openOwner(ctx, { command: 'orchestr8 background' });
  } catch (error) {
    reply({ ok: false, error: (error as Error).message, code: error instanceof CliError ? error.code : ExitCode.failed });
    return ExitCode.owned;
  }
  const { engine } = owned;
  try {
    if ('resume' in request) reply({ ok: true, resumed: engine.activeRunCount });
    else reply({ ok: true, result: await engine.launch(request as LaunchRequest) });
  } catch (error) {
    const code = error instanceof WorkflowError ? ExitCode.usage : error instanceof StateOwnedError ? ExitCode.owned : ExitCode.failed;
    reply({ ok: false, error: (error as Error).message, code });
  }
  process.once('SIGTERM', () => void owned.close().then(() => process.exit(0)));
  await untilIdle(engine);
  // No new launches from here on; runs that came through the API just before still finish.
  await owned.api?.close();
  await untilIdle(engine);
  await owned.close();
  return ExitCode.ok;
}

/** Resolves once the engine has no unfinished run. */
export function untilIdle(engine: Engine): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (engine.activeRunCount > 0) return;
      sub.dispose();
      resolve();
    };
    const sub = engine.onEvent((event) => event.type.startsWith('workflow.') && setImmediate(check));
    check();
  });
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}
