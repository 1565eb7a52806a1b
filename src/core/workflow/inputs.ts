import type { WorkflowDef } from '../model/workflow.ts';
import { didYouMean } from './schema-issues.ts';
import { WorkflowError, type WorkflowIssue } from './workflow-error.ts';

/**
 * The inputs of one run: provided values, then defaults; an optional input
 * without a default is the empty string. Throws `WorkflowError` listing every
 * missing required input (at its declaration) and every unknown provided one.
 */
export function resolveInputs(def: WorkflowDef, provided: Record<string, string>): Record<string, string> {
  // parseWorkflow leaves `file` unset (it may be a display name); positions still carry it.
  const file = def.file ?? def.inputs[0]?.pos?.file ?? def.tasks[0]?.pos?.file ?? def.name;
  const issues: WorkflowIssue[] = [];
  const declared = def.inputs.map((i) => i.name);
  for (const name of Object.keys(provided)) {
    if (declared.includes(name)) continue;
    const guess = didYouMean(name, declared);
    const list = declared.length ? `declared inputs: ${declared.join(', ')}` : 'the workflow declares no inputs';
    issues.push({ message: `unknown input '${name}'${guess ? `; did you mean '${guess}'?` : ''} (${list})`, file, line: 0, col: 0, endLine: 0, endCol: 0 });
  }
  const values: Record<string, string> = {};
  for (const input of def.inputs) {
    const value = provided[input.name] ?? input.default;
    if (value !== undefined) {
      values[input.name] = value;
    } else if (input.required) {
      const pos = input.pos ?? { file, line: 0, col: 0 };
      const why = input.description ? ` (${input.description})` : '';
      issues.push({
        message: `missing required input '${input.name}'${why}: give it a value`,
        file: pos.file,
        line: pos.line,
        col: pos.col,
        endLine: pos.line,
        endCol: pos.line > 0 ? pos.col + input.name.length : 0,
      });
    } else {
      values[input.name] = '';
    }
  }
  if (issues.length > 0) throw new WorkflowError(issues);
  return values;
}
