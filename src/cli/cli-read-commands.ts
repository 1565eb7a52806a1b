/**
 * The commands that only read: the state (`status`, `result`, `log`: the read-only reader and
 * sql.js) or workflow files (`validate`: the parser). They need no engine, git or SDKs, so they
 * are bundled apart (`dist/cli-read.cjs`) and load in a fraction of the time the full command
 * set takes (see command-loader.ts).
 */
export { logCommand } from './commands/log.ts';
export { resultCommand } from './commands/result.ts';
export { statusCommand } from './commands/status.ts';
export { validateCommand } from './commands/validate.ts';
export { exitCodeOf } from './exit-code.ts';
