import type { RunRecord } from './records.ts';

/** Where workers on other machines get a run's files from (BullMQ mode). */
export interface RunSource {
  /** A URL or path `git clone` accepts. */
  remote: string;
  /** Commit the run started from; the worker checks it out in a worktree of its own. */
  baseCommit: string;
  /** Branch the worker pushes its changes to. */
  branch: string;
}

/** The pull request a run opened (or found open after a restart). */
export interface RunPullRequest {
  url: string;
  number: number;
}

/**
 * What a run delivered beyond its tasks' results: the folder it worked in, its branch, the push,
 * the pull request, and notes on why something did not happen. Written by the adapters' hooks
 * (git, GitHub, BullMQ) through the engine's `recordDelivery` move, which announces each change
 * with a `run.delivered` event once it is durable. Kept apart from the workflow's options, which
 * say what the user asked for.
 */
export interface RunDelivery {
  /** `in-place`: the run works on the project folder itself and commits nothing. */
  workspace?: 'worktree' | 'in-place';
  repoRoot?: string;
  worktree?: string;
  /** The run's working folder inside the worktree (the project may be a sub-folder of the repository). */
  worktreeCwd?: string;
  branch?: string;
  baseSha?: string;
  baseBranch?: string;
  /** Whether the run committed any change. */
  changed?: boolean;
  /** Commits on the branch since `baseSha`, counted when the run finished. */
  commits?: number;
  /** Why the run opened no pull request, in a few words (`no GitHub session`, `no remote origin`): for toasts and the tree. */
  noPullRequest?: string;
  /** The remote the branch was pushed to. */
  pushedTo?: string;
  pushError?: string;
  pullRequest?: RunPullRequest;
  pullRequestError?: string;
  /** Human-readable notes: why there is no worktree, no push, no pull request. */
  notes?: string[];
  /** The project folder the run was launched in (its worktree stands in for it). */
  projectDir?: string;
  /**
   * The project's agent files as they were in the project folder at launch (committed or not), in
   * precedence order: agent tasks of the run, their retries and resumes use these definitions.
   */
  agentFiles?: Array<{ path: string; content: string }>;
  /** BullMQ mode: where remote workers fetch the run's files. */
  source?: RunSource;
}

/** Keys of `RunDelivery` that records written before it existed kept in `run.options`, under the same name. */
const LEGACY_SAME_NAME = [
  'repoRoot',
  'worktree',
  'worktreeCwd',
  'branch',
  'baseSha',
  'baseBranch',
  'changed',
  'pushedTo',
  'pushError',
  'pullRequestError',
  'source',
] as const;
/** Every delivery key such records kept in `options`; `workspace` is not one, as it is also a workflow option. */
const LEGACY_KEYS: readonly string[] = [...LEGACY_SAME_NAME, 'pullRequestUrl', 'pullRequestNumber', 'gitNotes'];

/**
 * A run record as this version reads it. Records written before delivery had its own field kept
 * it in `options` (`pullRequestUrl`, `pullRequestNumber`, `gitNotes`, `branch`, …); those keys
 * move to `delivery` here, when the record is read, so every reader sees one shape and the
 * journal and snapshots of an existing state folder open unchanged.
 */
export function upgradeRunRecord(run: RunRecord): RunRecord {
  const legacy = run.options as Record<string, unknown> | undefined;
  if (run.delivery || !legacy || !LEGACY_KEYS.some((k) => k in legacy)) return run;
  const delivery: RunDelivery = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(legacy)) {
    if (!LEGACY_KEYS.includes(key)) options[key] = value;
  }
  for (const key of LEGACY_SAME_NAME) if (legacy[key] !== undefined) (delivery as Record<string, unknown>)[key] = legacy[key];
  if (typeof legacy['pullRequestUrl'] === 'string') {
    delivery.pullRequest = { url: legacy['pullRequestUrl'], number: typeof legacy['pullRequestNumber'] === 'number' ? legacy['pullRequestNumber'] : 0 };
  }
  if (Array.isArray(legacy['gitNotes'])) delivery.notes = legacy['gitNotes'].filter((n): n is string => typeof n === 'string');
  // `workspace` was both a workflow option and what the hooks decided: the decision is what was delivered.
  if (legacy['workspace'] === 'in-place' || legacy['worktree'] !== undefined) delivery.workspace = legacy['worktree'] !== undefined ? 'worktree' : 'in-place';
  const { options: _old, ...rest } = run;
  return { ...rest, ...(Object.keys(options).length ? { options: options as RunRecord['options'] } : {}), delivery };
}

/** A delivery with `patch` applied; keys set to undefined in the patch are cleared (a push that succeeded on a retry). */
export function mergeDelivery(current: RunDelivery | undefined, patch: RunDelivery): RunDelivery {
  const merged: Record<string, unknown> = { ...current, ...patch };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as RunDelivery;
}
