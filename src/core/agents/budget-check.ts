import type { UsageTotals } from '../engine/engine-api.ts';
import type { Budget, InputRequest } from '../model/input-request.ts';
import type { TaskContext } from '../runners/task-runner.ts';

/** What one model turn cost: the estimate of the next one. */
export interface TurnSpend {
  usd: number;
  tokens: number;
}

/** Every token the API billed: input, output, cache writes and cache reads. */
export function tokensOf(totals: UsageTotals): number {
  return totals.inputTokens + totals.outputTokens + totals.cacheWriteTokens + totals.cacheReadTokens;
}

/**
 * The budget request to park on before the next model turn, if that turn would pass the task's
 * budget (its own, else `fallback`: the setting) or its run's. The next turn is estimated to cost
 * what the last one did (nothing before the first), so a task stops before it overspends rather
 * than after.
 */
export async function budgetRequest(
  ctx: TaskContext,
  fallback: Budget | undefined,
  next: TurnSpend | undefined,
  now: number,
  /** Spent but not recorded yet (the claude-code runtime's requests before Claude Code reports them). */
  unrecorded: TurnSpend = { usd: 0, tokens: 0 },
): Promise<InputRequest | undefined> {
  if (!ctx.spent) return undefined;
  const scopes: ['task' | 'run', Budget | undefined][] = [
    ['task', ctx.task.budget ?? fallback],
    ['run', ctx.run.budget],
  ];
  for (const [scope, budget] of scopes) {
    if (!budget || (budget.usd === undefined && budget.tokens === undefined)) continue;
    const totals = await ctx.spent(scope);
    const spent = { usd: totals.costUsd + unrecorded.usd, tokens: tokensOf(totals) + unrecorded.tokens };
    const usdOver = budget.usd !== undefined && spent.usd + (next?.usd ?? 0) > budget.usd;
    const tokensOver = budget.tokens !== undefined && spent.tokens + (next?.tokens ?? 0) > budget.tokens;
    if (usdOver || tokensOver) {
      return { kind: 'budget', id: `budget:${scope}:${budget.usd ?? '-'}:${budget.tokens ?? '-'}`, scope, budget, spent, askedAt: now };
    }
  }
  return undefined;
}
