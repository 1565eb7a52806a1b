import type { Budget } from '../../core/model/input-request.ts';
import { CliError, ExitCode } from '../cli-error.ts';

/**
 * A budget from a pair of flags (`--budget-usd` / `--budget-tokens` of `launch`, `--raise-usd` /
 * `--raise-tokens` of `approve`); undefined when neither is given. Tokens are whole.
 */
export function budgetFromFlags(usd: { flag: string; value: string | undefined }, tokens: { flag: string; value: string | undefined }): Budget | undefined {
  const budget: Budget = {};
  if (usd.value !== undefined) budget.usd = positive(usd.flag, usd.value);
  if (tokens.value !== undefined) budget.tokens = Math.round(positive(tokens.flag, tokens.value));
  return budget.usd !== undefined || budget.tokens !== undefined ? budget : undefined;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag} takes a positive number, not "${text}"`, ExitCode.usage);
  return n;
}
