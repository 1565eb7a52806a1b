import { Command, CommanderError } from 'commander';
import { StateOwnedError } from '../core/store/state-lock.ts';
import { NotFoundError } from '../core/engine/errors.ts';
import { WorkflowError } from '../core/workflow/workflow-error.ts';
import { CliError, ExitCode } from './cli-error.ts';
import { cleanupCommand } from './commands/cleanup.ts';
import { clearCommand } from './commands/clear.ts';
import { controlCommand } from './commands/control.ts';
import { collect } from './commands/inputs-option.ts';
import { launchCommand } from './commands/launch.ts';
import { logCommand } from './commands/log.ts';
import { mcpCommand } from './commands/mcp.ts';
import { resultCommand } from './commands/result.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';
import { workerCommand } from './commands/worker.ts';
import { cliRunners } from './cli-runners.ts';
import { cliContext } from './cli-context.ts';
import { cliVersion } from './version.ts';

/** Builds the `orchestr8` command line; each action resolves to an exit code. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('orchestr8')
    .description('Fire-and-forget AI-agent workflows: durable DAGs of agent, shell and wait tasks.')
    .option('--state <dir>', 'state folder (default: <project>/.orchestr8/state, or $ORCHESTR8_STATE)')
    .option('--json', 'machine-readable output')
    .option('-v, --verbose', 'log more')
    .option('--redis <url>', 'BullMQ mode: tasks run on `orchestr8 worker` processes through this Redis (or $ORCHESTR8_REDIS_URL)')
    .version(cliVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      setExit(await fn(...args));
  const opts = (cmd: Command) => cmd.optsWithGlobals();

  program
    .command('run <workflow>')
    .description('run a workflow file with live progress (or --detach)')
    .option('-i, --input <key=value>', 'workflow input (repeatable)', collect, [])
    .option('-d, --detach', 'return at once with the run id; the run goes on in the background')
    .option('-c, --concurrency <n>', 'tasks at once across runs')
    .action(act(async (file: string, _o: unknown, cmd: Command) => runCommand(file, opts(cmd) as never)));
  program
    .command('launch')
    .description('fire and forget one task; prints its id at once')
    .option('--run <command>', 'shell command')
    .option('--agent <name>', 'agent name')
    .option('--prompt <text>', 'prompt for the agent')
    .option('--name <name>', 'display name')
    .option('--timeout <duration>', 'e.g. 30s, 5m')
    .option('--retries <n>', 'extra attempts on failure')
    .action(act(async (_o: unknown, cmd: Command) => launchCommand(opts(cmd) as never)));
  program
    .command('status [id]')
    .description('recent runs, or one run with its tasks')
    .option('-n, --limit <n>', 'runs to list', '20')
    .option('-w, --watch', 'live: follow the run (or every running run) until it ends')
    .action(act(async (id: string | undefined, _o: unknown, cmd: Command) => statusCommand(id, opts(cmd) as never)));
  program
    .command('result <id>')
    .description("a task's stored result")
    .action(act(async (id: string, _o: unknown, cmd: Command) => resultCommand(id, opts(cmd))));
  program
    .command('log <taskId>')
    .description("a task's output, all attempts")
    .action(act(async (id: string, _o: unknown, cmd: Command) => logCommand(id, opts(cmd))));
  for (const verb of ['cancel', 'retry'] as const) {
    program
      .command(`${verb} <id>`)
      .description(verb === 'cancel' ? 'cancel a run or a task (its dependents are skipped)' : 'retry the failed, cancelled and skipped tasks of a run, or one task')
      .action(act(async (id: string, _o: unknown, cmd: Command) => controlCommand(verb, id, undefined, opts(cmd))));
  }
  program
    .command('signal <taskId> [payload]')
    .description('complete a waiting task (an approval, a CI callback)')
    .action(act(async (id: string, payload: string | undefined, _o: unknown, cmd: Command) => controlCommand('signal', id, payload, opts(cmd))));
  program
    .command('validate <files...>')
    .description('check workflow files')
    .action(act(async (files: string[], _o: unknown, cmd: Command) => validateCommand(files, opts(cmd))));
  program
    .command('clear')
    .description('remove finished runs from history')
    .option('--older-than <duration>', 'only runs finished longer ago than this (e.g. 24h)')
    .action(act(async (_o: unknown, cmd: Command) => clearCommand(opts(cmd) as never)));
  program
    .command('cleanup')
    .description('remove the git worktrees of finished runs whose branch is merged (branches are kept)')
    .option('--all', "every finished run's worktree, merged or not (uncommitted changes in them are lost)")
    .action(act(async (_o: unknown, cmd: Command) => cleanupCommand(opts(cmd) as never)));
  program.addCommand(workerCommand((flags) => cliRunners(cliContext(flags))));
  program
    .command('mcp')
    .description('MCP server on stdio for Claude Code and other agents (claude mcp add orchestr8 -- orchestr8 mcp)')
    .action(act(async (_o: unknown, cmd: Command) => mcpCommand(opts(cmd))));
  program.command('__serve', { hidden: true }).action(act(async (_o: unknown, cmd: Command) => serveCommand(opts(cmd))));
  return program;
}

/** Runs the CLI; known errors become one line on stderr and an exit code, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  try {
    await buildProgram((c) => (code = c)).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      // Commander has printed its own message; a script asking for --json gets one it can parse too.
      if (argv.includes('--json')) reportJson('usage', error.message.replace(/^error: /, ''));
      return ExitCode.usage;
    }
    const exit = exitCodeOf(error);
    if (argv.includes('--json')) reportJson(ERROR_CODES[exit] ?? 'failed', (error as Error).message);
    else process.stderr.write(`orchestr8: ${(error as Error).message}\n`);
    if (exit === ExitCode.failed && process.env.ORCHESTR8_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return exit;
  }
  return code;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.code;
  if (error instanceof WorkflowError) return ExitCode.usage;
  if (error instanceof StateOwnedError) return ExitCode.owned;
  if (error instanceof NotFoundError) return ExitCode.notFound;
  return ExitCode.failed;
}

const ERROR_CODES: Record<number, string> = { [ExitCode.usage]: 'usage', [ExitCode.owned]: 'owned', [ExitCode.notFound]: 'not_found' };

/** `--json` errors go to stdout, where the script reads the command's answer: `{ "error": { "code", "message" } }`. */
function reportJson(code: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
}
