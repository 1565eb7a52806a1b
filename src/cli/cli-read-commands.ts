/**
 * The commands that only read the state (`status`, `result`, `log`): they need the read-only
 * reader and sql.js, not the engine, the workflow parser, git or the SDKs, so they are bundled
 * apart (`dist/cli-read.cjs`) and load in a fraction of the time the full command set takes
 * (see command-loader.ts).
 */
export { logCommand } from './commands/log.ts';
export { resultCommand } from './commands/result.ts';
export { statusCommand } from './commands/status.ts';
export { outcomeOf } from './exit-code.ts';
