/** One line of the issue's targets table, as a bench measured it. */
export interface Target {
  measure: string;
  comparison: '≥' | '≤';
  target: number;
  unit: string;
  /** null when this run could not measure it (e.g. no redis-server for a plain BullMQ baseline). */
  value: number | null;
  verdict: 'met' | 'not met' | 'not measured';
}

export function target(measure: string, value: number | null, comparison: Target['comparison'], goal: number, unit: string): Target {
  const met = value !== null && (comparison === '≥' ? value >= goal : value <= goal);
  return { measure, comparison, target: goal, unit, value, verdict: value === null || Number.isNaN(value) ? 'not measured' : met ? 'met' : 'not met' };
}

/** The targets as a Markdown table, for the console and docs/benchmarks.md. */
export function targetsTable(targets: Target[]): string {
  const withUnit = (n: number, unit: string, digits: number, minDigits = digits) =>
    `${n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: minDigits })}${unit === '×' ? '×' : ` ${unit}`}`;
  return [
    '| measure | target | result | verdict |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.measure} | ${t.comparison} ${withUnit(t.target, t.unit, 2, 0)} | ${t.value === null ? 'not measured' : withUnit(t.value, t.unit, t.unit === '×' ? 2 : 3)} | ${t.verdict} |`),
  ].join('\n');
}
