import type { InputDef, WorkflowDef } from '../../core/model/workflow.ts';

/** One input box of "Launch Workflow…", derived from the workflow's declared inputs. */
export interface InputPrompt {
  name: string;
  title: string;
  prompt: string;
  value: string;
  required: boolean;
}

export function inputPrompts(workflow: WorkflowDef): InputPrompt[] {
  return workflow.inputs.map((input, i) => ({
    name: input.name,
    title: `${workflow.name}: ${input.name} (${i + 1}/${workflow.inputs.length})`,
    prompt: input.description ?? (input.required ? `Value for ${input.name} (required)` : `Value for ${input.name}`),
    value: input.default ?? '',
    required: input.required,
  }));
}

/** The input box's validation message, or undefined when the value is acceptable. */
export function validateInput(input: Pick<InputDef, 'name' | 'required'>, value: string): string | undefined {
  if (input.required && !value.trim()) return `${input.name} is required`;
  return undefined;
}

/** A row of the workflow quick pick; `error` set when the file does not parse. */
export interface WorkflowPickView {
  label: string;
  description: string;
  detail?: string;
}

export function workflowPick(relativePath: string, parsed: { workflow: WorkflowDef } | { error: string }): WorkflowPickView {
  if ('error' in parsed) return { label: `$(error) ${relativePath}`, description: 'does not parse', detail: parsed.error };
  const { workflow } = parsed;
  const tasks = `${workflow.tasks.length} task${workflow.tasks.length === 1 ? '' : 's'}`;
  const inputs = workflow.inputs.length ? ` · inputs: ${workflow.inputs.map((i) => i.name).join(', ')}` : '';
  return { label: workflow.name, description: relativePath, detail: `${workflow.description ? `${workflow.description} · ` : ''}${tasks}${inputs}` };
}
