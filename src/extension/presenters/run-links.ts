import type { RunRecord } from '../../core/model/records.ts';

/**
 * The pull request a run opened, if any. Adapters that open PRs record it in
 * `run.delivery.pullRequest`; only http(s) addresses are offered, so a tampered store can't
 * make "Open Pull Request" open a `command:` or `file:` link.
 */
export function pullRequestUrl(run: RunRecord): string | undefined {
  const url = run.delivery?.pullRequest?.url;
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}
