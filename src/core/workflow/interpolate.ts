import type { TaskAction } from '../model/workflow.ts';
import { shellContexts } from './shell-context.ts';

const NAME = '[A-Za-z][A-Za-z0-9_-]*';
const INPUT_REF = new RegExp(`^inputs\\.(${NAME})$`);
const RESULT_REF = new RegExp(`^tasks\\.(${NAME})\\.result$`);

/** A piece of a `${...}` template: literal text or a reference. `raw` and `offset` locate it in the template. */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'input'; name: string; raw: string; offset: number }
  | { kind: 'result'; task: string; raw: string; offset: number };

/** A malformed `${...}` at `offset` (length `raw.length`) of the template. */
export interface TemplateProblem {
  message: string;
  raw: string;
  offset: number;
}

/**
 * Splits a template into text and `${inputs.NAME}` / `${tasks.ID.result}` references.
 * `$${` is an escape for a literal `${` (so a shell command can still use `$${HOME}`).
 * Malformed references are reported and kept as literal text.
 */
export function parseTemplate(text: string): { parts: TemplatePart[]; problems: TemplateProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) {
      const raw = text.slice(i);
      problems.push({ raw, offset: i, message: 'unterminated "${": close it with "}" (write "$${" for a literal "${")' });
      literal += raw;
      break;
    }
    const raw = text.slice(i, end + 1);
    const inner = raw.slice(2, -1).trim();
    const input = INPUT_REF.exec(inner);
    const result = RESULT_REF.exec(inner);
    if (input || result) {
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push(input ? { kind: 'input', name: input[1]!, raw, offset: i } : { kind: 'result', task: result![1]!, raw, offset: i });
    } else {
      problems.push({
        raw,
        offset: i,
        message: `malformed reference "${raw}": use \${inputs.NAME} or \${tasks.ID.result} (write "$$${raw.slice(1)}" for a literal "${raw}")`,
      });
      literal += raw;
    }
    i = end + 1;
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  return { parts, problems };
}

/** What a template may refer to when a task is about to start. */
export interface InterpolationScope {
  inputs: Record<string, string>;
  /** Output of a finished task, or undefined when it has none (yet). */
  result(taskKey: string): string | undefined;
}

/** A reference that cannot be resolved when a task starts. */
export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}

function partValue(part: Exclude<TemplatePart, { kind: 'text' }>, scope: InterpolationScope): string {
  if (part.kind === 'input') {
    const v = scope.inputs[part.name];
    if (v === undefined) throw new InterpolationError(`${part.raw}: input '${part.name}' has no value`);
    return v;
  }
  const v = scope.result(part.task);
  if (v === undefined) throw new InterpolationError(`${part.raw}: task '${part.task}' has no result`);
  return v;
}

/** Replaces every reference with its value verbatim (prompts, wait messages, env values). */
export function interpolateText(text: string, scope: InterpolationScope): string {
  const { parts, problems } = parseTemplate(text);
  if (problems[0]) throw new InterpolationError(problems[0].message);
  return parts.map((p) => (p.kind === 'text' ? p.text : partValue(p, scope))).join('');
}

/** `O8_INPUT_TARGET`, `O8_TASK_LINT_RESULT`: the env var a reference becomes in a shell command. */
export function envVarName(part: Exclude<TemplatePart, { kind: 'text' }>): string {
  const upper = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return part.kind === 'input' ? `O8_INPUT_${upper(part.name)}` : `O8_TASK_${upper(part.task)}_RESULT`;
}

/**
 * Resolves `${inputs.NAME}` and `${tasks.ID.result}` in an action, right before it runs.
 *
 * Prompts, wait messages and `env` values receive the values verbatim. A shell
 * `run` command never does: task results are untrusted (an agent's output may
 * well contain `; rm -rf ~`), so each reference becomes a quoted reference to an
 * environment variable (`"$O8_INPUT_TARGET"`, `"$O8_TASK_LINT_RESULT"`; inside
 * double quotes or a heredoc `${O8_...}`, inside single quotes `'"$O8_..."'`; see
 * shell-context.ts) and the value goes into `action.env`, which the shell runner
 * must pass to a POSIX shell (`sh -c`). The shell expands the variable as one word and never
 * parses its content as code. Throws `InterpolationError` for a reference
 * without a value (a missing result, an input not given).
 */
export function interpolateAction(action: TaskAction, scope: InterpolationScope): TaskAction {
  switch (action.kind) {
    case 'agent':
      return { ...action, prompt: interpolateText(action.prompt, scope) };
    case 'wait':
      return action.message === undefined ? action : { ...action, message: interpolateText(action.message, scope) };
    case 'noop':
      return action;
    case 'run':
      return interpolateRun(action, scope);
  }
}

function interpolateRun(action: Extract<TaskAction, { kind: 'run' }>, scope: InterpolationScope): TaskAction {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.env ?? {})) env[k] = interpolateText(v, scope);
  const { parts, problems } = parseTemplate(action.run);
  if (problems[0]) throw new InterpolationError(problems[0].message);
  const contexts = shellContexts(parts);
  const varOf = new Map<string, string>();
  let run = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      run += part.text;
      continue;
    }
    const key = `${part.kind}:${part.kind === 'input' ? part.name : part.task}`;
    let name = varOf.get(key);
    if (name === undefined) {
      const base = envVarName(part);
      name = base;
      // `a-b` and `a_b` map to the same name; so may a user's own env entry.
      for (let n = 2; name in env; n++) name = `${base}_${n}`;
      env[name] = partValue(part, scope);
      varOf.set(key, name);
    }
    const context = contexts.shift();
    if (context === 'literal')
      throw new InterpolationError(`${part.raw} is inside a heredoc with a quoted delimiter (<<'EOF'), where nothing expands; use an unquoted delimiter`);
    run += context === 'double' ? `\${${name}}` : context === 'single' ? `'"$${name}"'` : `"$${name}"`;
  }
  return action.sandbox !== undefined ? { kind: 'run', run, env, sandbox: action.sandbox } : { kind: 'run', run, env };
}

/** The task keys whose results an action refers to (`${tasks.ID.result}`): what must be read before it is interpolated. */
export function resultReferences(action: TaskAction): string[] {
  const texts: string[] = [];
  if (action.kind === 'agent') texts.push(action.prompt);
  else if (action.kind === 'wait' && action.message !== undefined) texts.push(action.message);
  else if (action.kind === 'run') texts.push(action.run, ...Object.values(action.env ?? {}));
  const keys = new Set<string>();
  for (const text of texts) for (const part of parseTemplate(text).parts) if (part.kind === 'result') keys.add(part.task);
  return [...keys];
}
