import { Command, CommanderError } from 'commander';
import { ExitCode } from './cli-error.ts';
import { outcomeOf } from './exit-code.ts';
import { loadCommands, loadedCommands, loadReadCommands, loadValidateCommand } from './command-loader.ts';
import { collect } from './commands/inputs-option.ts';
import { launchCommand } from './commands/launch.ts';
import { workerCommand } from './commands/worker.ts';
import { cliVersion } from './version.ts';

/**
 * Builds the `orchestr8` command line; each action resolves to an exit code. Only `launch` is
 * here in full: the other commands load their implementations when they run (command-loader.ts).
 */
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
    .action(act(async (file: string, _o: unknown, cmd: Command) => (await loadCommands()).runCommand(file, opts(cmd) as never)));
  program
    .command('launch')
    .description('fire and forget one task; prints its id at once')
    .option('--run <command>', 'shell command')
    .option('--agent <name>', 'agent name')
    .option('--prompt <text>', 'prompt for the agent')
    .option('--name <name>', 'display name')
    .option('--timeout <duration>', 'e.g. 30s, 5m')
    .option('--retries <n>', 'extra attempts on failure')
    .option('--budget-usd <n>', "an agent task's budget in dollars: it asks before a model turn that would pass it")
    .option('--budget-tokens <n>', "an agent task's budget in tokens")
    .action(act(async (_o: unknown, cmd: Command) => launchCommand(opts(cmd) as never)));
  program
    .command('status [id]')
    .description('recent runs, or one run with its tasks')
    .option('-n, --limit <n>', 'runs to list', '20')
    .option('-w, --watch', 'live: follow the run (or every running run) until it ends')
    .action(act(async (id: string | undefined, _o: unknown, cmd: Command) => (await loadReadCommands()).statusCommand(id, opts(cmd) as never)));
  program
    .command('result <id>')
    .description("a task's stored result")
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadReadCommands()).resultCommand(id, opts(cmd))));
  program
    .command('log <taskId>')
    .description("a task's output, all attempts")
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadReadCommands()).logCommand(id, opts(cmd))));
  for (const verb of ['cancel', 'retry'] as const) {
    program
      .command(`${verb} <id>`)
      .description(
        verb === 'cancel' ? 'cancel a run or a task (its dependents are skipped)' : 'retry the failed, cancelled and skipped tasks of a run, or one task',
      )
      .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).controlCommand(verb, id, undefined, opts(cmd))));
  }
  program
    .command('signal <taskId> [payload]')
    .description('complete a waiting task (an approval, a CI callback); --reject fails it, the payload being the reason')
    .option('--reject', 'reject the wait: the task fails and the tasks that need it are skipped')
    .action(
      act(async (id: string, payload: string | undefined, _o: unknown, cmd: Command) =>
        (await loadCommands()).controlCommand('signal', id, payload, opts(cmd) as never),
      ),
    );
  program
    .command('continue <taskId>')
    .description("send a follow-up to a finished agent task: a new attempt continues its conversation, in the run's worktree")
    .option('--prompt <text>', 'what the agent should do next')
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).continueCommand(id, opts(cmd) as never)));
  program
    .command('approve <taskId>')
    .description('allow what a task in needs-input asks (a shell command), or raise its budget')
    .option('--always', "allow it for the rest of the run (its rule, e.g. Bash(npm test:*), joins the run's allow list)")
    .option('--raise-usd <n>', 'a budget request: raise the budget by this many dollars (default: by the budget again)')
    .option('--raise-tokens <n>', 'a budget request: raise the budget by this many tokens')
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).answerCommand('approve', id, opts(cmd) as never)));
  program
    .command('deny <taskId>')
    .description('deny what a task in needs-input asks (the agent gets the reason), or stop it at its budget')
    .option('--reason <text>', "why; the agent receives it as the tool's result")
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).answerCommand('deny', id, opts(cmd) as never)));
  program
    .command('pause <runId>')
    .description('pause a run: running tasks finish their current turn, nothing new starts')
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).pauseCommand('pause', id, opts(cmd))));
  program
    .command('resume <runId>')
    .description("resume a paused run (paused by hand, or on the API's quota before its retry time)")
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).pauseCommand('resume', id, opts(cmd))));
  program
    .command('validate <files...>')
    .description('check workflow files')
    .action(act(async (files: string[], _o: unknown, cmd: Command) => (await loadValidateCommand()).validateCommand(files, opts(cmd))));
  program
    .command('clear')
    .description('remove finished runs from history')
    .option('--older-than <duration>', 'only runs finished longer ago than this (e.g. 24h)')
    .action(act(async (_o: unknown, cmd: Command) => (await loadCommands()).clearCommand(opts(cmd) as never)));
  program
    .command('cleanup')
    .description('remove the worktrees and branches of finished runs that are merged, applied or changed nothing')
    .option('--all', "every finished run's worktree, merged or not (uncommitted changes in them are lost; unmerged branches stay)")
    .option('--older-than <duration>', 'also unmerged branches of runs finished longer ago than this (e.g. 30d)')
    .action(act(async (_o: unknown, cmd: Command) => (await loadCommands()).cleanupCommand(opts(cmd) as never)));
  program
    .command('diff <runId>')
    .description('what a run changed since its base commit (a running run: so far)')
    .option('--stat', 'a summary per file')
    .option('--name-only', 'only the files, with A/M/D')
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).diffCommand(id, opts(cmd) as never)));
  program
    .command('apply <runId>')
    .description("merge a run's branch into the current branch (on a conflict nothing changes; exit 5)")
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).applyCommand(id, opts(cmd))));
  program
    .command('discard <runId>')
    .description("delete a finished run's worktrees and branch (and the branch it pushed)")
    .option('-y, --yes', 'do not ask')
    .action(act(async (id: string, _o: unknown, cmd: Command) => (await loadCommands()).discardCommand(id, opts(cmd) as never)));
  program.addCommand(
    workerCommand(async (flags) => {
      const commands = await loadCommands();
      await commands.runWorker(flags, () => commands.cliRunners());
    }),
  );
  program
    .command('mcp')
    .description('MCP server on stdio for Claude Code and other agents (claude mcp add orchestr8 -- orchestr8 mcp)')
    .action(act(async (_o: unknown, cmd: Command) => (await loadCommands()).mcpCommand(opts(cmd))));
  program.command('__serve', { hidden: true }).action(act(async (_o: unknown, cmd: Command) => (await loadCommands()).serveCommand(opts(cmd))));
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
    const [exit, jsonCode] = await outcomeFor(error);
    if (argv.includes('--json')) reportJson(jsonCode, (error as Error).message);
    else process.stderr.write(`orchestr8: ${(error as Error).message}\n`);
    if (exit === ExitCode.failed && process.env.ORCHESTR8_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return exit;
  }
  return code;
}

/**
 * An error's exit code and `--json` code. Errors thrown by the commands loaded apart are instances
 * of that bundle's classes, so they are classified there too.
 */
async function outcomeFor(error: unknown): Promise<[number, string]> {
  let outcome = outcomeOf(error);
  for (const loaded of loadedCommands()) {
    if (outcome[0] !== ExitCode.failed) break;
    // A bundle that failed to load threw that failure itself: nothing else to classify it by.
    const commands = await loaded.catch(() => undefined);
    if (commands) outcome = commands.outcomeOf(error);
  }
  return outcome;
}

/** `--json` errors go to stdout, where the script reads the command's answer: `{ "error": { "code", "message" } }`. */
function reportJson(code: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
}
