import { z } from 'zod';
import { defineTool } from './agent-tool.ts';

/** Lets a quality-gate agent record its verdict where the engine, UI and PR text can see it. */
export const recordVerdictTool = defineTool({
  name: 'record_verdict',
  description:
    'Record the verdict of a quality gate (pass, warn or fail) with a short summary and the path of the report file you wrote. Call once, ' +
    'at the end of a review.',
  schema: z.object({
    verdict: z.enum(['pass', 'warn', 'fail']),
    summary: z.string().optional(),
    report_path: z.string().optional().describe('Report file written in the task folder'),
    gate: z.string().optional().describe('Gate name; defaults to the task id in the workflow'),
  }),
  async run({ verdict, summary, report_path, gate }, { ctx, guard }) {
    if (report_path) await guard.resolve(report_path);
    const name = gate ?? ctx.task.key;
    const report = [report_path, summary].filter(Boolean).join('\n') || undefined;
    await ctx.recordGate({ gate: name, verdict, ...(report ? { report } : {}) });
    ctx.log(`\n[gate ${name}: ${verdict}]\n`);
    return `recorded ${verdict} for gate ${name}`;
  },
});
