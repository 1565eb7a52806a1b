import type { MergeConflict, TaskRecord } from '../../core/model/records.ts';

/** "a.ts, b.ts and c.ts", at most `max` names then "and N more". */
export function fileList(files: readonly string[], max = 5): string {
  const shown = files.slice(0, max);
  const rest = files.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/**
 * What "Resolve Merge Conflict…" says next to its "Retry Task" button. `left` is what still has
 * conflict markers on disk; `again` when the user already pressed Retry Task once and some did.
 */
export function resolvePrompt(task: TaskRecord, conflict: MergeConflict, left: readonly string[], again = false): string {
  const name = task.name || task.key;
  if (!left.length)
    return `Orchestr8: the conflicts of ${name} with ${conflict.runBranch} are resolved in its worktree. Retry Task merges them into the run's branch.`;
  const verb = left.length === 1 ? 'has' : 'have';
  if (again) return `Orchestr8: ${fileList(left)} still ${verb} conflict markers. Resolve and save ${left.length === 1 ? 'it' : 'them'}, then Retry Task.`;
  return (
    `Orchestr8: ${name} conflicts with ${conflict.runBranch} in ${fileList(left)}. ` +
    `Resolve ${left.length === 1 ? 'it' : 'them'} in the merge editor (or edit out the markers) and save, then Retry Task merges the result.`
  );
}
