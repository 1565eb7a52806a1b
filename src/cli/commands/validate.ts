import path from 'node:path';
import { analyzeWorkflow, readWorkflowText } from '../../core/workflow/parse-workflow.ts';
import { formatIssue, WorkflowError } from '../../core/workflow/workflow-error.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';

/** `orchestr8 validate FILE…`: every problem as file:line:col, exit 2 if any. */
export async function validateCommand(files: string[], options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  const report = await Promise.all(
    files.map(async (file) => {
      const full = path.resolve(file);
      try {
        return { file: full, issues: analyzeWorkflow(await readWorkflowText(full), full).issues };
      } catch (error) {
        if (error instanceof WorkflowError) return { file: full, issues: [...error.issues] };
        throw error;
      }
    }),
  );
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else for (const { file, issues } of report) ctx.out(issues.length ? issues.map(formatIssue).join('\n') : `${file}: ok`);
  return report.some((r) => r.issues.length) ? ExitCode.usage : ExitCode.ok;
}
