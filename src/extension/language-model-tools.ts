import * as vscode from 'vscode';
import type { EngineApi } from '../core/engine/engine-api.ts';
import type { EngineEvent } from '../core/model/events.ts';
import type * as Operations from '../servers/agent-tools/task-operations.ts';
import type { ToolHost } from '../servers/agent-tools/task-operations.ts';
import type { AgentToolSpec } from '../servers/agent-tools/tool-catalog.ts';

/** The shared tool operations (src/servers/agent-tools/task-operations.ts), loaded on first use. */
export type AgentToolOperations = typeof Operations;

/** What the tools need from the extension's engine host (EngineHost fits). */
export interface ToolEngineSource {
  /** The engine for a launch or cancel; throws a user-facing error when this window only reads the state. */
  writable(): Promise<EngineApi>;
  readable(): Promise<EngineApi>;
  onEvent(listener: (event: EngineEvent) => void): { dispose(): void };
}

/** Tool names, in the order of package.json `contributes.languageModelTools` (a test keeps the two equal). */
const TOOL_NAMES: readonly AgentToolSpec['name'][] = [
  'task_async',
  'task_status',
  'task_result',
  'task_cancel',
  'task_continue',
  'workflow_list',
  'workflow_launch',
  'task_answer',
  'run_pause',
  'run_resume',
];

/**
 * Registers the fire-and-forget tools for Copilot's agent mode (`vscode.lm.registerTool`),
 * the same operations as `orchestr8 mcp`. Launches and cancels ask the user first
 * (`prepareInvocation`). `loadOperations` returns the operations module; the extension
 * passes one from its engine runtime bundle so activation does not load the parser.
 * The API arrived in VS Code 1.95, which is why `engines.vscode` asks for it (see test/extension/engine-version.test.ts).
 * The caller disposes the result (push it to `context.subscriptions`).
 */
export function registerLanguageModelTools(engine: ToolEngineSource, loadOperations: () => AgentToolOperations): vscode.Disposable {
  const disposables = TOOL_NAMES.map((name) =>
    vscode.lm.registerTool<Record<string, unknown>>(`orchestr8_${name}`, {
      prepareInvocation: (options) => prepare(name, options.input),
      invoke: async (options) => {
        const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        if (!root) throw new Error('Open a folder first: Orchestr8 keeps its runs per workspace folder.');
        const host: ToolHost = {
          root,
          use: async (fn, mode) => fn(mode === 'write' ? await engine.writable() : await engine.readable()),
          onEvent: (listener) => engine.onEvent(listener),
        };
        const value = await runOperation(loadOperations(), name, host, options.input);
        // A thrown error reaches the model as the tool's failure, with the message: what it needs to correct its call.
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(JSON.stringify(value, null, 2))]);
      },
    }),
  );
  return new vscode.Disposable(() => {
    for (const d of disposables) d.dispose();
  });
}

function runOperation(ops: AgentToolOperations, name: AgentToolSpec['name'], host: ToolHost, input: Record<string, unknown>): Promise<unknown> {
  switch (name) {
    case 'task_async':
      return ops.taskAsync(host, input as Parameters<AgentToolOperations['taskAsync']>[1]);
    case 'task_status':
      return ops.taskStatus(host, input as { id: string });
    case 'task_result':
      return ops.taskResult(host, input as { id: string; wait_seconds?: number });
    case 'task_cancel':
      return ops.taskCancel(host, input as { id: string });
    case 'task_continue':
      return ops.taskContinue(host, input as { id: string; prompt: string });
    case 'workflow_list':
      return ops.workflowList(host);
    case 'workflow_launch':
      return ops.workflowLaunch(host, input as { file: string; inputs?: Record<string, string> });
    case 'task_answer':
      return ops.taskAnswer(host, input as Parameters<AgentToolOperations['taskAnswer']>[1]);
    case 'run_pause':
      return ops.runPause(host, input as { id: string });
    case 'run_resume':
      return ops.runPause(host, input as { id: string }, true);
  }
}

/** What the chat shows while a tool runs, and the confirmation asked before anything starts or stops. */
export function prepare(name: AgentToolSpec['name'], input: Record<string, unknown>): vscode.PreparedToolInvocation {
  const code = (s: unknown) => `\`${String(s).replace(/`/g, "'")}\``;
  const inputs = (v: unknown) =>
    v && typeof v === 'object' && Object.keys(v).length
      ? `\n\nInputs: ${Object.entries(v)
          .map(([k, x]) => `${k} = ${code(x)}`)
          .join(', ')}`
      : '';
  switch (name) {
    case 'task_async': {
      const what =
        input.run !== undefined
          ? `Run the shell command ${code(input.run)} in the background?`
          : input.workflow !== undefined
            ? `Launch the workflow ${code(input.workflow)} in the background?${inputs(input.inputs)}`
            : `Start agent ${code(input.agent)} in the background with this prompt?\n\n> ${String(input.prompt ?? '')
                .split('\n')
                .join('\n> ')}`;
      return {
        invocationMessage: 'Launching a background task',
        confirmationMessages: { title: 'Orchestr8: launch a background task', message: new vscode.MarkdownString(what) },
      };
    }
    case 'workflow_launch':
      return {
        invocationMessage: `Launching workflow ${String(input.file)}`,
        confirmationMessages: {
          title: 'Orchestr8: launch a workflow',
          message: new vscode.MarkdownString(`Launch the workflow ${code(input.file)} in the background?${inputs(input.inputs)}`),
        },
      };
    case 'task_cancel':
      return {
        invocationMessage: `Cancelling ${String(input.id)}`,
        confirmationMessages: { title: 'Orchestr8: cancel', message: new vscode.MarkdownString(`Cancel ${code(input.id)}? Tasks that need it are skipped.`) },
      };
    case 'task_answer': {
      const raise = [input.raise_usd ? `$${String(input.raise_usd)}` : '', input.raise_tokens ? `${String(input.raise_tokens)} tokens` : '']
        .filter(Boolean)
        .join(' and ');
      const what =
        input.decision === 'allow'
          ? `Allow what ${code(input.id)} asks${input.always ? ' for the rest of its run' : ''}?${raise ? ` (raise its budget by ${raise})` : ''}`
          : `Deny what ${code(input.id)} asks?${input.reason ? `\n\nReason given to the agent: ${String(input.reason)}` : ''}`;
      return {
        invocationMessage: `Answering ${String(input.id)}`,
        confirmationMessages: { title: 'Orchestr8: answer a request', message: new vscode.MarkdownString(what) },
      };
    }
    case 'run_pause':
      return {
        invocationMessage: `Pausing ${String(input.id)}`,
        confirmationMessages: {
          title: 'Orchestr8: pause',
          message: new vscode.MarkdownString(`Pause run ${code(input.id)}? Running agents stop after their current turn.`),
        },
      };
    case 'run_resume':
      return {
        invocationMessage: `Resuming ${String(input.id)}`,
        confirmationMessages: { title: 'Orchestr8: resume', message: new vscode.MarkdownString(`Resume run ${code(input.id)}?`) },
      };
    case 'task_continue':
      return {
        invocationMessage: `Continuing ${String(input.id)}`,
        confirmationMessages: {
          title: 'Orchestr8: continue an agent task',
          message: new vscode.MarkdownString(
            `Send this follow-up to ${code(input.id)}? It continues the same conversation in the background.\n\n> ${String(input.prompt ?? '')
              .split('\n')
              .join('\n> ')}`,
          ),
        },
      };
    case 'task_status':
      return { invocationMessage: `Checking ${String(input.id)}` };
    case 'task_result':
      return { invocationMessage: input.wait_seconds ? `Waiting for ${String(input.id)}` : `Reading the result of ${String(input.id)}` };
    case 'workflow_list':
      return { invocationMessage: 'Listing workflows' };
  }
}
