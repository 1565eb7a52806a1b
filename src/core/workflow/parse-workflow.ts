import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import type { InputDef, TaskDef, WorkflowDef } from '../model/workflow.ts';
import { checkReferences, templateFields, type TemplateField } from './check-references.ts';
import { describe, didYouMean, dotted, pathIssues, type PathIssue } from './schema-issues.ts';
import { dependsOn, findCycle } from './task-graph.ts';
import { WorkflowError, type WorkflowIssue } from './workflow-error.ts';
import { taskFromYaml } from './task-from-yaml.ts';
import { NAME_PATTERN, OPTION_KEYS, inputSchema, taskSchema, workflowSchema, type WorkflowOptions } from './workflow-schema.ts';
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
  return { ...parseWorkflow(await readWorkflowText(path), path), file: resolve(path) };
}

/** A workflow file's text; a file that cannot be read is a `WorkflowError` naming it, like any other problem of the file. */
export async function readWorkflowText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new WorkflowError([{ message: `cannot read workflow file: ${why}`, file: path, line: 0, col: 0, endLine: 0, endCol: 0 }]);
  }
}

/** The non-throwing form: for diagnostics with ranges (language server) as well as for `parseWorkflow`. */
export function analyzeWorkflow(text: string, file: string): WorkflowAnalysis {
  const lineCounter = new LineCounter();
  // `logLevel: 'error'`: the library's warnings become issues below instead of lines on stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const at = new YamlLocator(text, doc, lineCounter, file);
  const outline: WorkflowOutline = { tasks: [], inputs: [] };
  const issues: WorkflowIssue[] = [];
  const report = (path: PathSegment[], message: string, target: 'key' | 'value' = 'value') => issues.push(at.issue(at.range(path, target), message));
  const reportAll = (list: PathIssue[]) => {
    for (const i of list) report(i.path, i.target === 'value' && i.path.length > 0 ? `${dotted(i.path)}: ${i.message}` : i.message, i.target);
  };

  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    for (const e of problems) issues.push(at.issue(at.span(e.pos[0], e.pos[1]), yamlErrorMessage(e, text)));
    return { issues, outline };
  }
  const unresolved = unresolvedAlias(doc);
  if (unresolved) {
    issues.push(
      at.issue(
        at.span(unresolved.start, unresolved.end),
        `unknown alias *${unresolved.name}: an alias must follow its anchor (&${unresolved.name}) and may not sit inside it`,
      ),
    );
    return { issues, outline };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The library throws for alias bombs (more than maxAliasCount expansions): a problem of the file, not a crash.
    issues.push(at.issue(at.span(0, 1), `cannot expand the file's aliases: ${(error as Error).message}`));
    return { issues, outline };
  }
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
      if (v.required && v.default !== undefined)
        report(['inputs', name, 'required'], `input '${name}' has a default, so it is never missing: drop 'required' or 'default'`);
    }
    inputs.push(def);
  }
  const inputNames = Object.keys(rawInputs);

  // Tasks, one by one.
  const rawTasks = isRecord(data.tasks) ? data.tasks : {};
  const taskIds = Object.keys(rawTasks);
  const known = new Set(taskIds);
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
    // References are checked even in a task with other problems, so all are reported at once.
    templates.set(id, templateFields(path, value));
    const parsed = taskSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      reportAll(pathIssues(parsed.error.issues, path));
      continue;
    }
    const defaults = typeof data.sandbox === 'boolean' ? { sandbox: data.sandbox } : {};
    const built = taskFromYaml(id, parsed.data, { file, line: range.line, col: range.col }, (p, m, t) => report([...path, ...p], m, t), defaults);
    if (!built) continue;
    needPaths.set(id, new Map([...built.needPaths].map(([need, p]) => [need, [...path, ...p]])));
    const task = built.task;
    tasks.push(task);
  }

  // Needs name declared tasks, and form no cycle.
  for (const task of tasks) {
    for (const [need, path] of needPaths.get(task.id) ?? []) {
      if (known.has(need)) continue;
      const guess = didYouMean(need, taskIds);
      report(path, `unknown need '${need}'${guess ? `; did you mean '${guess}'?` : ''} (tasks: ${taskIds.join(', ')})`);
    }
  }
  const cycle = findCycle(tasks);
  if (cycle) report(needPaths.get(cycle[0]!)?.get(cycle[1]!) ?? ['tasks', cycle[0]!], `dependency cycle: ${cycle.join(' -> ')}`);

  // References in templates point at declared inputs and at tasks the task waits for.
  const needsOf = new Map(tasks.map((t) => [t.id, t.needs]));
  for (const [id, fields] of templates) {
    // Which results a task may use is only known for a valid task in an acyclic graph.
    const depends = cycle || !needsOf.has(id) ? undefined : (other: string) => dependsOn(needsOf, id, other);
    issues.push(...checkReferences(at, id, fields, { inputNames, taskIds: known, dependsOn: depends }));
  }

  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  if (issues.length > 0 || !top.success) return { issues, outline };
  const w = top.data;
  const workflow: WorkflowDef = { name: w.name, inputs, tasks };
  if (w.description !== undefined) workflow.description = w.description;
  if (w.concurrency !== undefined) workflow.concurrency = w.concurrency;
  const options: WorkflowOptions = {};
  for (const key of OPTION_KEYS) if (w[key] !== undefined) Object.assign(options, { [key]: w[key] });
  if (Object.keys(options).length > 0) workflow.options = options;
  return { workflow, issues, outline };
}

/** The first alias that names no anchor before it (`a: { run: *a }`), which the library's toJS would throw on. */
function unresolvedAlias(doc: Document): { name: string; start: number; end: number } | undefined {
  let found: { name: string; start: number; end: number } | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      const [start, end] = node.range ?? [0, 1];
      found = { name: node.source, start, end };
      return visit.BREAK;
    },
  });
  return found;
}

/** The yaml package's message, reworded where it speaks to programmers rather than to workflow authors. */
function yamlErrorMessage(e: YAMLError, text: string): string {
  if (e.code === 'MULTIPLE_DOCS') return "a workflow file holds one YAML document: remove this '---' and what follows";
  if (e.code === 'DUPLICATE_KEY') {
    const key = /^[^\s:,{}[\]]+/.exec(text.slice(e.pos[0]))?.[0];
    return `duplicate key${key ? ` '${key}'` : ''}: a key may appear only once in a map`;
  }
  return e.message.split('\n')[0]!;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
