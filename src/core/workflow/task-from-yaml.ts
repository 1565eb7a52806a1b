import { DEFAULT_RETRY, type RetryPolicy, type SourcePosition, type TaskAction, type TaskDef } from '../model/workflow.ts';
import type { RawTask } from './workflow-schema.ts';
import type { PathSegment } from './yaml-locator.ts';

/** Reports a problem at a path relative to the task; `target: 'key'` points at the key. */
export type Report = (path: PathSegment[], message: string, target?: 'key' | 'value') => void;

/**
 * A `TaskDef` from a task entry that passed the schema, plus where each need is
 * written (to point at it later). Undefined when the action keys do not fit
 * together; those problems go to `report`.
 */
export function taskFromYaml(
  id: string,
  raw: RawTask,
  pos: SourcePosition,
  report: Report,
  defaults: { sandbox?: boolean } = {},
): { task: TaskDef; needPaths: Map<string, PathSegment[]> } | undefined {
  const action = actionOf(id, raw, report, defaults);
  if (!action) return undefined;
  const needList = raw.needs === undefined ? [] : typeof raw.needs === 'string' ? [raw.needs] : raw.needs;
  // Duplicate needs collapse; the first mention is the one pointed at.
  const needPaths = new Map<string, PathSegment[]>();
  needList.forEach((n, i) => {
    if (!needPaths.has(n)) needPaths.set(n, typeof raw.needs === 'string' ? ['needs'] : ['needs', i]);
  });
  const task: TaskDef = {
    id,
    needs: [...needPaths.keys()],
    action,
    retry: retryOf(raw),
    continueOnError: raw.continue_on_error ?? false,
    priority: raw.priority ?? 0,
    pos,
  };
  if (raw.name !== undefined) task.name = raw.name;
  if (raw.budget !== undefined) {
    if (action.kind !== 'agent') report(['budget'], `'budget' only applies to agent tasks, and task '${id}' is a ${action.kind} task`, 'key');
    else task.budget = raw.budget;
  }
  if (raw.timeout !== undefined) {
    if (raw.timeout === 0) report(['timeout'], 'timeout must be longer than 0');
    task.timeoutMs = raw.timeout;
  }
  if (typeof raw.retries === 'object' && task.retry.maxDelayMs < task.retry.backoffMs) {
    report(['retries', 'max_delay'], 'max_delay must not be shorter than backoff');
  }
  return { task, needPaths };
}

/** Exactly one of run / agent + prompt / wait. */
function actionOf(id: string, raw: RawTask, report: Report, defaults: { sandbox?: boolean }): TaskAction | undefined {
  const kinds = (['run', 'agent', 'wait'] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length === 0 && raw.prompt !== undefined) {
    report(['prompt'], `task '${id}' has a prompt but no agent: add 'agent: <name>'`, 'key');
    return undefined;
  }
  if (kinds.length === 0) {
    report([], `task '${id}' has nothing to do: give it run, agent + prompt, or wait`, 'key');
    return undefined;
  }
  if (kinds.length > 1) {
    report([kinds[1]!], `task '${id}' has both '${kinds[0]}' and '${kinds[1]}': a task does exactly one of run, agent + prompt, or wait`, 'key');
    return undefined;
  }
  const kind = kinds[0]!;
  const runOnly = (k: string) => k === 'env' || k === 'sandbox';
  const stray = (['prompt', 'model', 'runtime', 'env', 'sandbox'] as const).filter(
    (k) => raw[k] !== undefined && !(kind === 'agent' && !runOnly(k)) && !(kind === 'run' && runOnly(k)),
  );
  if (stray.length > 0) {
    const k = stray[0]!;
    report([k], `'${k}' only applies to ${runOnly(k) ? 'run' : 'agent'} tasks, and task '${id}' is a ${kind} task`, 'key');
    return undefined;
  }
  if (kind === 'run') {
    // The task's own `sandbox:` wins over the workflow's; the result is stored with the task.
    const sandbox = raw.sandbox ?? defaults.sandbox;
    return { kind, run: raw.run!, ...(raw.env ? { env: raw.env } : {}), ...(sandbox !== undefined ? { sandbox } : {}) };
  }
  if (kind === 'agent') {
    if (raw.prompt === undefined) {
      report(['agent'], `task '${id}' has an agent but no prompt: add 'prompt: ...'`, 'key');
      return undefined;
    }
    return {
      kind,
      agent: raw.agent!,
      prompt: raw.prompt,
      ...(raw.model !== undefined ? { model: raw.model } : {}),
      ...(raw.runtime !== undefined ? { runtime: raw.runtime } : {}),
    };
  }
  const message = raw.wait === true ? undefined : typeof raw.wait === 'string' ? raw.wait : raw.wait!.message;
  return message !== undefined ? { kind: 'wait', message } : { kind: 'wait' };
}

/** `retries: N` is N retries with the default backoff; the map form overrides each part. */
function retryOf(raw: RawTask): RetryPolicy {
  const r = raw.retries;
  if (r === undefined) return { ...DEFAULT_RETRY };
  if (typeof r === 'number') return { ...DEFAULT_RETRY, max: r };
  return {
    max: r.max,
    backoffMs: r.backoff ?? DEFAULT_RETRY.backoffMs,
    factor: r.factor ?? DEFAULT_RETRY.factor,
    maxDelayMs: r.max_delay ?? Math.max(DEFAULT_RETRY.maxDelayMs, r.backoff ?? 0),
    jitter: r.jitter ?? DEFAULT_RETRY.jitter,
  };
}
