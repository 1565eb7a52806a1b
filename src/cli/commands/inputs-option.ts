import { CliError, ExitCode } from '../cli-error.ts';

/** `--input key=value` (repeatable) into a record. */
export function parseInputs(pairs: string[]): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--input ${pair}: expected key=value`, ExitCode.usage);
    inputs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return inputs;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
