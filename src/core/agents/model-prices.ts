/**
 * The one price table for agent cost figures, in USD per million tokens. Source:
 * platform.claude.com "Pricing" (model pricing and prompt-caching tables) and the
 * models overview, as of November 2026. Cache writes are priced at the 5-minute TTL
 * rate, the TTL `cache_control: { type: 'ephemeral' }` asks for.
 */
export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

const price = (input: number, output: number, cacheRead: number, cacheWrite = input * 1.25): ModelPrice => ({ input, output, cacheWrite, cacheRead });

/** Keyed by model id without a date suffix; `priceOf` strips `-YYYYMMDD`. */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-fable-5-1': price(10, 50, 0.25),
  'claude-mythos-5-1': price(10, 50, 0.25),
  'claude-fable-5': price(10, 50, 1),
  'claude-mythos-5': price(10, 50, 1),
  'claude-opus-5-5': price(4, 20, 0.2),
  'claude-opus-5': price(5, 25, 0.5),
  'claude-opus-4-8': price(5, 25, 0.5),
  'claude-opus-4-7': price(5, 25, 0.5),
  'claude-opus-4-6': price(5, 25, 0.5),
  'claude-opus-4-5': price(5, 25, 0.5),
  'claude-sonnet-5-5': price(2, 10, 0.1),
  'claude-sonnet-5': price(2, 10, 0.2),
  'claude-sonnet-4-6': price(3, 15, 0.3),
  'claude-sonnet-4-5': price(3, 15, 0.3),
  // Haiku 5.5 is tiered by prompt size; this is the ≤100k-token tier, which agent turns rarely exceed.
  'claude-haiku-5-5': price(0.1, 0.5, 0.01),
  'claude-haiku-4-5': price(1, 5, 0.1),
};

export function priceOf(model: string): ModelPrice | undefined {
  return MODEL_PRICES[model] ?? MODEL_PRICES[model.replace(/-\d{8}$/, '')];
}

export interface TurnTokens {
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
}

/** Cost of one turn in USD, or `undefined` when the model has no price in the table. */
export function costUsd(model: string, t: TurnTokens): number | undefined {
  const p = priceOf(model);
  if (!p) return undefined;
  return (t.inputTokens * p.input + t.outputTokens * p.output + t.cacheWriteTokens * p.cacheWrite + t.cacheReadTokens * p.cacheRead) / 1_000_000;
}
