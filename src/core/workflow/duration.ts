const UNITS_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
const NUM = String.raw`(\d+(?:\.\d+)?)`;
// Units in descending order, each at most once: 1h30m, 2m30s, 1s500ms.
const DURATION = new RegExp(`^(?:${NUM}h)?(?:${NUM}m(?!s))?(?:${NUM}s)?(?:${NUM}ms)?$`);

export const DURATION_HELP = 'use a number of seconds or a duration like 250ms, 30s, 5m, 1h, 1h30m';

/**
 * Milliseconds of a duration: a number of seconds (`30`, `"1.5"`) or units in
 * descending order (`250ms`, `30s`, `5m`, `1h`, `1h30m`). Throws a readable error.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration ${value}: ${DURATION_HELP}`);
    return Math.round(value * 1000);
  }
  const text = value.trim().replace(/\s+/g, '');
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const m = text === '' ? null : DURATION.exec(text);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(value)}: ${DURATION_HELP}`);
  const [, h, min, s, ms] = m;
  const total = Number(h ?? 0) * UNITS_MS.h + Number(min ?? 0) * UNITS_MS.m + Number(s ?? 0) * UNITS_MS.s + Number(ms ?? 0) * UNITS_MS.ms;
  return Math.round(total);
}
