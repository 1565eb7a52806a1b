import { createInterface } from 'node:readline/promises';
import { applyRun, discardRun, runChanges, runPatch } from '../../core/git/run-review.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { CliError, ExitCode } from '../cli-error.ts';
import { withReader } from '../state-reader.ts';
import { dim } from '../format.ts';

/**
 * `orchestr8 diff|apply|discard RUN_ID`: review a run's branch, merge it into the current branch,
 * or throw it away. The run's branch, base commit and worktree come from the state (read, never
 * written); the work itself is git's (src/core/git/run-review.ts).
 */

export interface DiffOptions extends GlobalOptions {
  stat?: boolean;
  nameOnly?: boolean;
}

/** `orchestr8 diff RUN_ID [--stat|--name-only]`: what the run changed since its base commit (a running run: so far). */
export async function diffCommand(id: string, options: DiffOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(ctx, async (api) => {
    const { run } = await api.status(id);
    const changes = await runChanges(run.id, run.delivery);
    if (ctx.json) return (ctx.out(JSON.stringify({ runId: run.id, state: run.state, ...changes }, null, 2)), ExitCode.ok);
    if (options.nameOnly) {
      for (const f of changes.files) ctx.out(`${f.status}\t${f.path}`);
      return ExitCode.ok;
    }
    const patch = await runPatch(changes, { stat: options.stat, color: process.stdout.isTTY && !process.env.NO_COLOR });
    if (patch) process.stdout.write(patch);
    else ctx.out(dim(`run ${run.id} changed nothing since ${changes.baseSha.slice(0, 10)}`));
    return ExitCode.ok;
  });
}

/** `orchestr8 apply RUN_ID`: merges the run's branch into the current branch; on a conflict nothing changes and the files are named (exit 5). */
export async function applyCommand(id: string, options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(ctx, async (api) => {
    const { run } = await api.status(id);
    const out = await applyRun(run.id, run.delivery);
    if (ctx.json) ctx.out(JSON.stringify({ runId: run.id, ...out }, null, 2));
    else if (!out.applied) process.stderr.write(`orchestr8: ${out.message}\n`);
    else if (out.alreadyApplied) ctx.out(`${out.branch} is already in ${out.into}`);
    else
      ctx.out(
        `applied ${out.branch} to ${out.into}${out.fastForward ? ' (fast-forward)' : ''}: ` +
          `${out.files.length} file(s)\n${out.files.map((f) => `  ${f}`).join('\n')}`,
      );
    return out.applied ? ExitCode.ok : ExitCode.conflict;
  });
}

export interface DiscardOptions extends GlobalOptions {
  yes?: boolean;
}

/** `orchestr8 discard RUN_ID [--yes]`: removes the run's worktrees and branch (and the branch it pushed), after asking. */
export async function discardCommand(id: string, options: DiscardOptions): Promise<number> {
  const ctx = cliContext(options);
  return withReader(ctx, async (api) => {
    const { run } = await api.status(id);
    if (run.state === 'running') throw new CliError(`run ${run.id} is still running: cancel it first (orchestr8 cancel ${run.id})`, ExitCode.usage);
    const branch = run.delivery?.branch;
    if (!options.yes) {
      if (!process.stdin.isTTY) throw new CliError(`discarding deletes the branch ${branch ?? '(none)'} and its worktrees: confirm with --yes`, ExitCode.usage);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(
        `Discard run ${run.id} (${run.name}): delete branch ` +
          `${branch ?? '(none)'}${run.delivery?.pushedTo ? ` here and on ${run.delivery.pushedTo}` : ''} and its worktrees? [y/N] `,
      );
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) return (ctx.out('kept'), ExitCode.ok);
    }
    const out = await discardRun(run.id, run.delivery);
    if (ctx.json) return (ctx.out(JSON.stringify({ runId: run.id, ...out }, null, 2)), ExitCode.ok);
    for (const w of out.worktrees) ctx.out(`removed worktree ${w}`);
    if (out.branch) ctx.out(`deleted branch ${out.branch}`);
    if (out.remoteBranch) ctx.out(`deleted ${out.remoteBranch}`);
    for (const n of out.notes) ctx.out(dim(n));
    return ExitCode.ok;
  });
}
