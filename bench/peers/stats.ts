import type { ThreadCpu } from '../thread-cpu.ts';

/** Nearest-rank percentile of unsorted samples (0 < p ≤ 100). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** What the peers benchmark reports for one peer. */
export interface PeerResult {
  peer: string;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  /** Enqueue-to-start latency (ms). */
  p50: number;
  p99: number;
  /** CPU seconds each process of the peer used while the load ran (robust to a busy machine, unlike tasks/s). */
  cpu: Record<string, number>;
  /** The engine's process (embedded, or the BullMQ-mode coordinator) by thread: CPU ms per task. */
  engineThreads?: ThreadCpu;
}

export function summarize(
  peer: string,
  spans: { enqueued: number; started: number; finished: number }[],
  cpu: Record<string, number>,
  engineThreads?: ThreadCpu | false,
): PeerResult {
  const first = Math.min(...spans.map((s) => s.enqueued));
  const last = Math.max(...spans.map((s) => s.finished));
  const latencies = spans.map((s) => s.started - s.enqueued);
  const seconds = (last - first) / 1000;
  return {
    peer,
    tasks: spans.length,
    seconds,
    tasksPerSecond: spans.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu,
    ...(engineThreads ? { engineThreads } : {}),
  };
}
