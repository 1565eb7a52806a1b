import fs from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { analyzeWorkflow } from '../../core/workflow/parse-workflow.ts';
import { formatIssue } from '../../core/workflow/workflow-error.ts';

/** Where a project keeps its workflow files. */
export const WORKFLOWS_FOLDER = path.join('.orchestr8', 'workflows');

/** A workflow file as an agent choosing one needs to see it. */
export interface WorkflowFileInfo {
  /** Relative to the project root, with `/`. */
  file: string;
  name?: string;
  description?: string;
  inputs: { name: string; description?: string; required: boolean; default?: string }[];
  tasks: string[];
  /** `file:line:col: message` lines; empty when the file can be launched. */
  problems: string[];
}

/** The `*.yml` / `*.yaml` files of `<root>/.orchestr8/workflows`, each parsed, in name order. */
export async function listWorkflowFiles(root: string): Promise<WorkflowFileInfo[]> {
  const dir = path.join(root, WORKFLOWS_FOLDER);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
  const out: WorkflowFileInfo[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const rel = path.relative(root, file).split(path.sep).join('/');
    const text = await readFile(file, 'utf8').catch((error: Error) => error);
    if (text instanceof Error) {
      out.push({ file: rel, inputs: [], tasks: [], problems: [`${rel}: ${text.message}`] });
      continue;
    }
    const { workflow, issues, outline } = analyzeWorkflow(text, rel);
    out.push({
      file: rel,
      ...(workflow ? { name: workflow.name } : {}),
      ...(workflow?.description ? { description: workflow.description } : {}),
      inputs: (workflow?.inputs ?? []).map((i) => ({
        name: i.name,
        required: i.required,
        ...(i.description ? { description: i.description } : {}),
        ...(i.default !== undefined ? { default: i.default } : {}),
      })),
      tasks: outline.tasks.map((t) => t.id),
      problems: issues.map(formatIssue),
    });
  }
  return out;
}

/**
 * The path of a workflow named by an agent: a path relative to the project root, or
 * just a file name (with or without extension) in `.orchestr8/workflows`. It must stay
 * inside the project: an agent's argument is not trusted to name any file on the machine.
 */
export function resolveWorkflowPath(root: string, given: string): string {
  const base = path.resolve(root);
  let full: string;
  if (/[\\/]/.test(given)) full = path.resolve(base, given);
  else if (/\.ya?ml$/.test(given)) full = path.join(base, WORKFLOWS_FOLDER, given);
  else {
    const yml = path.join(base, WORKFLOWS_FOLDER, `${given}.yml`);
    full = !fs.existsSync(path.join(base, WORKFLOWS_FOLDER, `${given}.yaml`)) && fs.existsSync(yml) ? yml : path.join(base, WORKFLOWS_FOLDER, `${given}.yaml`);
  }
  if (!full.startsWith(base + path.sep)) throw new Error(`workflow ${given} is outside the project ${base}`);
  return full;
}
