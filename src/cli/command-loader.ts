import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Commands from './cli-commands.ts';
import type * as ReadCommands from './cli-read-commands.ts';
import type * as ValidateCommand from './cli-validate-command.ts';

/** The commands that own the state, run workflows and start agents. */
export type CliCommands = typeof Commands;
/** The commands that only read the state. */
export type CliReadCommands = typeof ReadCommands;
/** `validate`, with the workflow parser. */
export type CliValidateCommand = typeof ValidateCommand;

declare const __ORCHESTR8_VERSION__: string | undefined;

let full: Promise<CliCommands> | undefined;
let reader: Promise<CliReadCommands> | undefined;
let validator: Promise<CliValidateCommand> | undefined;

/**
 * Loads the command implementations, once. `cli.cjs` holds only the command line and `launch`:
 * `--help`, `--version` and `launch` never load the engine. Bundled (esbuild stamps the
 * version), the full set comes from `engine-runtime.cjs` beside `cli.cjs` (the extension's
 * runtime, so the `.vsix` carries no second engine); from sources, from cli-commands.ts. The
 * paths are computed so the bundler leaves them alone.
 */
export function loadCommands(): Promise<CliCommands> {
  full ??= bundled()
    ? (requireBeside('engine-runtime') as { loadCliCommands(): Promise<CliCommands> }).loadCliCommands()
    : importSource<CliCommands>('cli-commands');
  return full;
}

/** The commands that only read the state (`status`, `result`, `log`): from `cli-read.cjs`, a bundle without the engine. */
export function loadReadCommands(): Promise<CliReadCommands> {
  reader ??= bundled() ? Promise.resolve(requireBeside('cli-read') as CliReadCommands) : importSource<CliReadCommands>('cli-read-commands');
  return reader;
}

/** `validate`: from `cli-validate.cjs`, the workflow parser without the engine. */
export function loadValidateCommand(): Promise<CliValidateCommand> {
  validator ??= bundled() ? Promise.resolve(requireBeside('cli-validate') as CliValidateCommand) : importSource<CliValidateCommand>('cli-validate-command');
  return validator;
}

/** The bundles loaded so far, without loading any: errors they throw are instances of their own classes. */
export function loadedCommands(): Promise<Pick<CliReadCommands, 'outcomeOf'>>[] {
  return [full, reader, validator].filter((p) => p !== undefined);
}

function bundled(): boolean {
  return typeof __ORCHESTR8_VERSION__ === 'string';
}

function requireBeside(bundle: string): unknown {
  return createRequire(import.meta.url)(path.join(path.dirname(fileURLToPath(import.meta.url)), [bundle, 'cjs'].join('.')));
}

async function importSource<T>(module: string): Promise<T> {
  return (await import(pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), [module, 'ts'].join('.'))).href)) as T;
}
