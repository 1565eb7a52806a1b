/**
 * Short human formats of the tree, toasts and documents. No `vscode` here: tested in plain Node.
 * Durations and one-line text are the core's (core/util/text-format.ts), shared with the CLI.
 */

/** `950`, `12.3k`, `4.1M` tokens. */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** `$0.0042`, `$0.42`, `$12.30`: cents are enough once a cost passes a dollar. */
export function formatCost(usd: number): string {
  return `$${usd.toFixed(usd < 1 ? (usd < 0.01 ? 4 : 3) : 2)}`;
}

/** How a run id is shown next to its name, as in "Started add-feature (run 4f2c…)". */
export function shortRunId(runId: string): string {
  return runId.length > 4 ? `${runId.slice(0, 4)}…` : runId;
}

/** A local date-time without seconds noise: `2026-11-25 09:31:07`. */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** When something started, as short as is unambiguous: `09:31` today, `2026-11-24 09:31` before. */
export function formatWhen(epochMs: number, now: number): string {
  const full = formatTime(epochMs);
  return full.slice(0, 10) === formatTime(now).slice(0, 10) ? full.slice(11, 16) : full.slice(0, 16);
}

/** A fence that no backtick run inside `text` can close early. */
export function codeFence(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}${text.endsWith('\n') ? '' : '\n'}${fence}`;
}

/** Escapes text that goes into markdown prose (tooltips, headings) so names can't inject links or formatting. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}
