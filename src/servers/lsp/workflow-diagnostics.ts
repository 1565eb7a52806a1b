import { LineCounter, parseDocument } from 'yaml';
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver';
import { analyzeWorkflow } from '../../core/workflow/parse-workflow.ts';
import { didYouMean } from '../../core/workflow/schema-issues.ts';
import type { WorkflowIssue } from '../../core/workflow/workflow-error.ts';
import { YamlLocator, type SourceRange } from '../../core/workflow/yaml-locator.ts';
import { AGENT_FOLDERS, type AgentSummary } from './agent-directory.ts';

/** Shown as the source of every diagnostic, so users can tell ours from the YAML extension's. */
export const DIAGNOSTIC_SOURCE = 'orchestr8';

/** A 1-based, end-exclusive core range as a 0-based LSP range. */
export function toLspRange(r: SourceRange): Range {
  if (r.line <= 0) return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return { start: { line: r.line - 1, character: r.col - 1 }, end: { line: r.endLine - 1, character: r.endCol - 1 } };
}

function diagnostic(issue: WorkflowIssue, severity: DiagnosticSeverity = DiagnosticSeverity.Error): Diagnostic {
  return { range: toLspRange(issue), message: issue.message, severity, source: DIAGNOSTIC_SOURCE };
}

/**
 * Every problem of a workflow file: the core parser's own issues (the same ones
 * `orchestr8 validate` prints), plus agents the project does not define. `agents`
 * undefined means the agent list is unknown, and agent names are not checked.
 */
export function workflowDiagnostics(text: string, file: string, agents?: readonly AgentSummary[]): Diagnostic[] {
  const { issues } = analyzeWorkflow(text, file);
  const diagnostics = issues.map((i) => diagnostic(i));
  if (agents) diagnostics.push(...unknownAgents(text, file, agents));
  return diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

/** `agent:` values naming no agent the project defines, at the value. */
function unknownAgents(text: string, file: string, agents: readonly AgentSummary[]): Diagnostic[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) return [];
  const data = doc.toJS({ maxAliasCount: 100 }) as { tasks?: unknown } | null;
  const tasks = data && typeof data === 'object' && isRecord(data.tasks) ? data.tasks : {};
  const names = agents.map((a) => a.name);
  const at = new YamlLocator(text, doc, lineCounter, file);
  const out: Diagnostic[] = [];
  for (const [id, task] of Object.entries(tasks)) {
    if (!isRecord(task) || typeof task.agent !== 'string' || !task.agent || names.includes(task.agent)) continue;
    const range = at.range(['tasks', id, 'agent']);
    if (names.length === 0) {
      // Agents may come from somewhere this server cannot see (a user folder, a plugin not checked out): say so, softly.
      out.push(
        diagnostic(
          at.issue(range, `agent '${task.agent}' is not defined in this project (no agents found in ${AGENT_FOLDERS.join(', ')})`),
          DiagnosticSeverity.Warning,
        ),
      );
      continue;
    }
    const guess = didYouMean(task.agent, names);
    out.push(diagnostic(at.issue(range, `unknown agent '${task.agent}'${guess ? `; did you mean '${guess}'?` : ''} (agents: ${names.join(', ')})`)));
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
