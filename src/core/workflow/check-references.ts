import { parseTemplate } from './interpolate.ts';
import { didYouMean } from './schema-issues.ts';
import { shellContexts } from './shell-context.ts';
import type { WorkflowIssue } from './workflow-error.ts';
import type { PathSegment, YamlLocator } from './yaml-locator.ts';

/** A string field of a task that may hold `${...}` references, and where it is. */
export interface TemplateField {
  path: PathSegment[];
  text: string;
}

/** The string fields of a task (as written, possibly invalid) that may hold `${...}` references. */
export function templateFields(path: PathSegment[], value: unknown): TemplateField[] {
  if (!isRecord(value)) return [];
  const fields: TemplateField[] = [];
  const add = (p: PathSegment[], v: unknown) => typeof v === 'string' && fields.push({ path: [...path, ...p], text: v });
  add(['run'], value.run);
  if (isRecord(value.env)) for (const [k, v] of Object.entries(value.env)) add(['env', k], v);
  add(['prompt'], value.prompt);
  add(['wait'], value.wait);
  if (isRecord(value.wait)) add(['wait', 'message'], value.wait.message);
  return fields;
}

/** What references may name: declared inputs, tasks, and (when known) the tasks this one waits for. */
export interface ReferenceScope {
  inputNames: readonly string[];
  taskIds: ReadonlySet<string>;
  /** Whether the task depends on another (transitively); undefined when unknown (broken task or cyclic graph), which skips that check. */
  dependsOn?: (other: string) => boolean;
}

/** Problems with the `${...}` references in one task's fields, each at the reference itself. */
export function checkReferences(at: YamlLocator, id: string, fields: readonly TemplateField[], scope: ReferenceScope): WorkflowIssue[] {
  const { inputNames, taskIds, dependsOn } = scope;
  const issues: WorkflowIssue[] = [];
  for (const field of fields) {
    const { parts, problems } = parseTemplate(field.text);
    const seen = new Map<string, number>();
    const where = (raw: string, offset: number) => {
      const nth = seen.get(raw) ?? 0;
      seen.set(raw, nth + 1);
      return at.rangeInScalar(field.path, field.text, raw, offset, nth);
    };
    for (const p of problems) issues.push(at.issue(where(p.raw, p.offset), p.message));
    const contexts = field.path[field.path.length - 1] === 'run' ? shellContexts(parts) : [];
    for (const part of parts) {
      if (part.kind === 'text') continue;
      const range = where(part.raw, part.offset);
      if (contexts.shift() === 'literal') {
        issues.push(at.issue(range, `${part.raw} is inside a heredoc with a quoted delimiter (<<'EOF'), where nothing expands; use an unquoted delimiter`));
      }
      if (part.kind === 'input' && !inputNames.includes(part.name)) {
        const guess = didYouMean(part.name, inputNames);
        const declared = inputNames.length ? `declared inputs: ${inputNames.join(', ')}` : 'the workflow declares no inputs';
        issues.push(at.issue(range, `${part.raw}: unknown input '${part.name}'${guess ? `; did you mean '${guess}'?` : ''} (${declared})`));
      } else if (part.kind === 'result' && !taskIds.has(part.task)) {
        issues.push(at.issue(range, `${part.raw}: unknown task '${part.task}'`));
      } else if (part.kind === 'result' && dependsOn && !dependsOn(part.task)) {
        issues.push(
          at.issue(
            range,
            `${part.raw}: task '${id}' does not need '${part.task}' (directly or through its needs), so its result may not exist yet; add it to needs`,
          ),
        );
      }
    }
  }
  return issues;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
