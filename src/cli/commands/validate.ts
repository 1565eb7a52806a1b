import path from 'node:path';
import { AGENT_SOURCES, loadAgentCatalog } from '../../core/agents/agent-catalog.ts';
import type { WorkflowDef } from '../../core/model/workflow.ts';
import { analyzeWorkflow, readWorkflowText } from '../../core/workflow/parse-workflow.ts';
import { didYouMean } from '../../core/workflow/schema-issues.ts';
import { formatIssue, WorkflowError, type WorkflowIssue } from '../../core/workflow/workflow-error.ts';
import type { GlobalOptions } from '../cli-context.ts';
import { cliContext } from '../cli-context.ts';
import { ExitCode } from '../cli-error.ts';

/** `orchestr8 validate FILE…`: every problem as file:line:col, agent names included; exit 2 if any. */
export async function validateCommand(files: string[], options: GlobalOptions): Promise<number> {
  const ctx = cliContext(options);
  const report = await Promise.all(
    files.map(async (file) => {
      const full = path.resolve(file);
      try {
        const { workflow, issues } = analyzeWorkflow(await readWorkflowText(full), full);
        return { file: full, issues: workflow ? await unknownAgents(workflow, ctx.projectRoot) : issues };
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

/** Agent tasks naming an agent that no agent file of the project defines (a run would fail them at start). */
async function unknownAgents(workflow: WorkflowDef, projectRoot: string): Promise<WorkflowIssue[]> {
  const agentTasks = workflow.tasks.filter((t) => t.action.kind === 'agent');
  if (agentTasks.length === 0) return [];
  const catalog = await loadAgentCatalog(projectRoot);
  const known = [...catalog.agents.keys()].sort();
  const issues: WorkflowIssue[] = [];
  for (const task of agentTasks) {
    const agent = task.action.kind === 'agent' ? task.action.agent : '';
    if (catalog.agents.has(agent) || !task.pos) continue;
    const guess = didYouMean(agent, known);
    const where = known.length ? `known: ${known.join(', ')}` : `no agent files in ${AGENT_SOURCES.join(', ')} under ${projectRoot}`;
    issues.push({
      message: `task '${task.id}': unknown agent '${agent}'${guess ? `; did you mean '${guess}'?` : ''} (${where})`,
      file: task.pos.file,
      line: task.pos.line,
      col: task.pos.col,
      endLine: task.pos.line,
      endCol: task.pos.col + task.id.length,
    });
  }
  return issues;
}
