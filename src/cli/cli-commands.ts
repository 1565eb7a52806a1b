/**
 * The heavy part of the CLI: the commands that own the state (the engine, sql.js), parse
 * workflows or start agents (the readers are in cli-read-commands.ts). `cli.cjs` stays small and loads this half only when a command
 * needs it (see command-loader.ts); in the bundle it lives in `engine-runtime.cjs`, which the
 * extension ships anyway, so the `.vsix` carries the CLI without a second copy of the engine.
 */
export { answerCommand, pauseCommand } from './commands/answer.ts';
export { cleanupCommand } from './commands/cleanup.ts';
export { clearCommand } from './commands/clear.ts';
export { continueCommand, controlCommand } from './commands/control.ts';
export { mcpCommand } from './commands/mcp.ts';
export { applyCommand, diffCommand, discardCommand } from './commands/review.ts';
export { runCommand } from './commands/run.ts';
export { serveCommand } from './commands/serve.ts';
export { runWorker } from './commands/worker-run.ts';
export { cliRunners } from './cli-runners.ts';
export { outcomeOf } from './exit-code.ts';
