/** Short human formats shared by the tree, toasts and documents. No `vscode` here: tested in plain Node. */

/** `850ms`, `4.2s`, `3m 05s`, `2h 07m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m ${String(totalSeconds % 60).padStart(2, '0')}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h ${String(totalMinutes % 60).padStart(2, '0')}m`;
}

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

/** One line of at most `max` characters, for labels and toasts (errors can span pages). */
export function oneLine(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
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
