import os from 'node:os';

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

/**
 * A caveat for the verdicts when the machine is busier than it has cores: wall-clock figures
 * (stalls, restart, latency) then include time the bench spent descheduled, and a slow disk
 * shifts throughput ratios. CPU per task holds up best.
 */
export function loadWarning(): string | undefined {
  const load = os.loadavg()[0]!;
  const cpus = os.availableParallelism();
  if (load <= cpus) return undefined;
  return `note: load average ${load.toFixed(1)} on ${cpus} CPUs while measuring: wall-clock figures (stalls, restart, latency, tasks/s) are inflated and the verdicts only indicative; CPU per task holds up best`;
}

/** The targets as a Markdown table, for the console and docs/benchmarks.md. */
export function targetsTable(targets: Target[]): string {
  const withUnit = (n: number, unit: string, digits: number, minDigits = digits) =>
    `${n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: minDigits })}${unit === '×' ? '×' : ` ${unit}`}`;
  return [
    '| measure | target | result | verdict |',
    '|---|---|---|---|',
    ...targets.map(
      (t) =>
        `| ${t.measure} | ${t.comparison} ${withUnit(t.target, t.unit, 2, 0)} | ${t.value === null ? 'not measured' : withUnit(t.value, t.unit, t.unit === '×' ? 2 : 3)} | ${t.verdict} |`,
    ),
  ].join('\n');
}
