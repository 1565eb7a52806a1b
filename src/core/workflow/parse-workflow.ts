import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { DEFAULT_RETRY, type InputDef, type RetryPolicy, type TaskAction, type TaskDef, type WorkflowDef } from '../model/workflow.ts';
import { parseTemplate } from './interpolate.ts';
import { describe, didYouMean, pathIssues, type PathIssue } from './schema-issues.ts';
import { findCycle, transitiveNeeds } from './task-graph.ts';
import { WorkflowError, type WorkflowIssue } from './workflow-error.ts';
import { NAME_PATTERN, OPTION_KEYS, inputSchema, taskSchema, workflowSchema, type RawTask } from './workflow-schema.ts';
import { YamlLocator, type PathSegment, type SourceRange } from './yaml-locator.ts';

/** Names and places of what a file declares, for completions and go-to-definition; filled even when the file has errors. */
export interface WorkflowOutline {
  tasks: { id: string; range: SourceRange }[];
  inputs: { name: string; range: SourceRange }[];
}

/** Everything `analyzeWorkflow` found: the workflow when the file is valid, and every issue otherwise. */
export interface WorkflowAnalysis {
  workflow?: WorkflowDef;
  issues: WorkflowIssue[];
  outline: WorkflowOutline;
}

/** Parses and validates a workflow file; throws `WorkflowError` listing every issue. */
export function parseWorkflow(text: string, file: string): WorkflowDef {
  const { workflow, issues } = analyzeWorkflow(text, file);
  if (!workflow || issues.length > 0) throw new WorkflowError(issues);
  return workflow;
}

/** Reads and parses a workflow file; `WorkflowDef.file` is its absolute path. */
export async function loadWorkflowFile(path: string): Promise<WorkflowDef> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (e as Error).message;
    throw new Error(`cannot read workflow file ${path}: ${why}`);
  }
  return { ...parseWorkflow(text, path), file: resolve(path) };
}

/** A string field of a task that may hold `${...}` references, and where it is. */
interface TemplateField {
  path: PathSegment[];
  text: string;
}

/** The non-throwing form: for diagnostics with ranges (language server) as well as for `parseWorkflow`. */
export function analyzeWorkflow(text: string, file: string): WorkflowAnalysis {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = new YamlLocator(text, doc, lineCounter, file);
  const outline: WorkflowOutline = { tasks: [], inputs: [] };
  const issues: WorkflowIssue[] = [];
  const report = (path: PathSegment[], message: string, target: 'key' | 'value' = 'value') =>
    issues.push(at.issue(at.range(path, target), message));
  const reportAll = (list: PathIssue[]) =>
    list.forEach((i) => report(i.path, i.target === 'value' && i.path.length > 0 ? `${dotted(i.path)}: ${i.message}` : i.message, i.target));

  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push(at.issue(at.span(e.pos[0], e.pos[1]), e.message.split('\n')[0]!));
    return { issues, outline };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    report([], 'the file is empty: a workflow needs at least a name and tasks');
    return { issues, outline };
  }
  if (!isRecord(data)) {
    report([], `expected a map with name and tasks at the top, got ${describe(data)}`);
    return { issues, outline };
  }

  const top = workflowSchema.safeParse(data, { reportInput: true });
  if (!top.success) reportAll(pathIssues(top.error.issues));

  // Inputs, one by one.
  const inputs: InputDef[] = [];
  const rawInputs = isRecord(data.inputs) ? data.inputs : {};
  for (const [name, value] of Object.entries(rawInputs)) {
    const range = at.range(['inputs', name], 'key');
    outline.inputs.push({ name, range });
    if (!NAME_PATTERN.test(name)) report(['inputs', name], `invalid input name '${name}': use letters, digits, _ and -, starting with a letter`, 'key');
    const parsed = inputSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      reportAll(pathIssues(parsed.error.issues, ['inputs', name]));
      continue;
    }
    const v = parsed.data;
    const def: InputDef = { name, required: false, pos: { file, line: range.line, col: range.col } };
    if (typeof v === 'string') def.default = v;
    else if (v) {
      if (v.description !== undefined) def.description = v.description;
      if (v.default !== undefined) def.default = v.default;
      def.required = v.required ?? false;
      if (v.required && v.default !== undefined) report(['inputs', name, 'required'], `input '${name}' has a default, so it is never missing: drop 'required' or 'default'`);
    }
    inputs.push(def);
  }
  const inputNames = Object.keys(rawInputs);

  // Tasks, one by one.
  const rawTasks = isRecord(data.tasks) ? data.tasks : {};
  const taskIds = Object.keys(rawTasks);
  if ('tasks' in data && taskIds.length === 0 && (data.tasks === null || isRecord(data.tasks))) {
    report(['tasks'], 'tasks is empty: declare at least one task', 'key');
  }
  const tasks: TaskDef[] = [];
  const needPaths = new Map<string, Map<string, PathSegment[]>>();
  const templates = new Map<string, TemplateField[]>();
  for (const id of taskIds) {
    const path = ['tasks', id];
    const range = at.range(path, 'key');
    outline.tasks.push({ id, range });
    if (!NAME_PATTERN.test(id)) report(path, `invalid task id '${id}': use letters, digits, _ and -, starting with a letter`, 'key');
    const value = rawTasks[id];
    if (value === null || (isRecord(value) && Object.keys(value).length === 0)) {
      report(path, `task '${id}' is empty: give it run, agent + prompt, or wait`, 'key');
      continue;
    }
    const parsed = taskSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      reportAll(pathIssues(parsed.error.issues, path));
      continue;
    }
    const raw = parsed.data;
    const action = actionOf(id, raw, (p, m, t) => report([...path, ...p], m, t));
    if (!action) continue;

    const needList = raw.needs === undefined ? [] : typeof raw.needs === 'string' ? [raw.needs] : raw.needs;
    const paths = new Map<string, PathSegment[]>();
    needList.forEach((n, i) => paths.has(n) || paths.set(n, typeof raw.needs === 'string' ? [...path, 'needs'] : [...path, 'needs', i]));
    needPaths.set(id, paths);
    templates.set(id, templateFields(path, raw));

    const task: TaskDef = {
      id,
      needs: [...paths.keys()],
      action,
      retry: retryOf(raw),
      continueOnError: raw.continue_on_error ?? false,
      priority: raw.priority ?? 0,
      pos: { file, line: range.line, col: range.col },
    };
    if (raw.name !== undefined) task.name = raw.name;
    if (raw.timeout !== undefined) {
      if (raw.timeout === 0) report([...path, 'timeout'], 'timeout must be longer than 0');
      task.timeoutMs = raw.timeout;
    }
    if (typeof raw.retries === 'object' && task.retry.maxDelayMs < task.retry.backoffMs) {
      report([...path, 'retries', 'max_delay'], 'max_delay must not be shorter than backoff');
    }
    tasks.push(task);
  }

  // Needs name declared tasks, and form no cycle.
  for (const task of tasks) {
    for (const [need, path] of needPaths.get(task.id) ?? []) {
      if (taskIds.includes(need)) continue;
      const guess = didYouMean(need, taskIds);
      report(path, `unknown need '${need}'${guess ? `; did you mean '${guess}'?` : ''} (tasks: ${taskIds.join(', ')})`);
    }
  }
  const cycle = findCycle(tasks);
  if (cycle) report(needPaths.get(cycle[0]!)?.get(cycle[1]!) ?? ['tasks', cycle[0]!], `dependency cycle: ${cycle.join(' -> ')}`);

  // References in templates point at declared inputs and at tasks the task waits for.
  for (const task of tasks) {
    const upstream = cycle ? undefined : transitiveNeeds(tasks, task.id);
    for (const field of templates.get(task.id) ?? []) {
      const { parts, problems } = parseTemplate(field.text);
      const seen = new Map<string, number>();
      const where = (raw: string, offset: number) => {
        const nth = seen.get(raw) ?? 0;
        seen.set(raw, nth + 1);
        return at.rangeInScalar(field.path, field.text, raw, offset, nth);
      };
      for (const p of problems) issues.push(at.issue(where(p.raw, p.offset), p.message));
      for (const part of parts) {
        if (part.kind === 'text') continue;
        const range = where(part.raw, part.offset);
        if (part.kind === 'input' && !inputNames.includes(part.name)) {
          const guess = didYouMean(part.name, inputNames);
          const declared = inputNames.length ? `declared inputs: ${inputNames.join(', ')}` : 'the workflow declares no inputs';
          issues.push(at.issue(range, `${part.raw}: unknown input '${part.name}'${guess ? `; did you mean '${guess}'?` : ''} (${declared})`));
        } else if (part.kind === 'result' && !taskIds.includes(part.task)) {
          issues.push(at.issue(range, `${part.raw}: unknown task '${part.task}'`));
        } else if (part.kind === 'result' && upstream && !upstream.has(part.task)) {
          issues.push(
            at.issue(range, `${part.raw}: task '${task.id}' does not need '${part.task}' (directly or through its needs), so its result may not exist yet; add it to needs`),
          );
        }
      }
    }
  }

  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  if (issues.length > 0 || !top.success) return { issues, outline };
  const w = top.data;
  const workflow: WorkflowDef = { name: w.name, inputs, tasks };
  if (w.description !== undefined) workflow.description = w.description;
  if (w.concurrency !== undefined) workflow.concurrency = w.concurrency;
  const options: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) if (w[key] !== undefined) options[key] = w[key];
  if (Object.keys(options).length > 0) workflow.options = options;
  return { workflow, issues, outline };
}

type Report = (path: PathSegment[], message: string, target?: 'key' | 'value') => void;

/** Exactly one of run / agent + prompt / wait. */
function actionOf(id: string, raw: RawTask, report: Report): TaskAction | undefined {
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
  const stray = (['prompt', 'model', 'env'] as const).filter(
    (k) => raw[k] !== undefined && !(kind === 'agent' && k !== 'env') && !(kind === 'run' && k === 'env'),
  );
  if (stray.length > 0) {
    const k = stray[0]!;
    report([k], `'${k}' only applies to ${k === 'env' ? 'run' : 'agent'} tasks, and task '${id}' is a ${kind} task`, 'key');
    return undefined;
  }
  if (kind === 'run') return raw.env ? { kind, run: raw.run!, env: raw.env } : { kind, run: raw.run! };
  if (kind === 'agent') {
    if (raw.prompt === undefined) {
      report(['agent'], `task '${id}' has an agent but no prompt: add 'prompt: ...'`, 'key');
      return undefined;
    }
    return raw.model !== undefined ? { kind, agent: raw.agent!, prompt: raw.prompt, model: raw.model } : { kind, agent: raw.agent!, prompt: raw.prompt };
  }
  const message = raw.wait === true ? undefined : typeof raw.wait === 'string' ? raw.wait : raw.wait!.message;
  return message !== undefined ? { kind: 'wait', message } : { kind: 'wait' };
}

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

function templateFields(path: PathSegment[], raw: RawTask): TemplateField[] {
  const fields: TemplateField[] = [];
  if (raw.run !== undefined) fields.push({ path: [...path, 'run'], text: raw.run });
  for (const [k, v] of Object.entries(raw.env ?? {})) fields.push({ path: [...path, 'env', k], text: v });
  if (raw.prompt !== undefined) fields.push({ path: [...path, 'prompt'], text: raw.prompt });
  if (typeof raw.wait === 'string') fields.push({ path: [...path, 'wait'], text: raw.wait });
  else if (typeof raw.wait === 'object' && raw.wait.message !== undefined) fields.push({ path: [...path, 'wait', 'message'], text: raw.wait.message });
  return fields;
}

/** `tasks.lint.needs[1]` */
function dotted(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
