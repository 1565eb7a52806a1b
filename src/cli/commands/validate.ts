import fs from 'node:fs';
import path from 'node:path';
import { analyzeWorkflow } from '../../core/workflow/parse-workflow.ts';
import { formatIssue } from '../../core/workflow/workflow-error.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';

/** `orchestr8 validate FILE…`: every problem as file:line:col, exit 2 if any. */
export async function validateCommand(files: string[], options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  const report = files.map((file) => {
    const full = path.resolve(file);
    const text = fs.readFileSync(full, 'utf8');
    return { file: full, issues: analyzeWorkflow(text, full).issues };
  });
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else for (const { file, issues } of report) ctx.out(issues.length ? issues.map(formatIssue).join('\n') : `${file}: ok`);
  return report.some((r) => r.issues.length) ? ExitCode.usage : ExitCode.ok;
}
