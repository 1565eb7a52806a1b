import type { ToolResultBlockParam, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { abortReason, TaskError, type TaskContext } from '../runners/task-runner.ts';
import type { ShellSandbox } from '../sandbox/shell-sandbox.ts';
import { errorMessage } from '../util/logger.ts';
import { oneLine } from '../util/text-format.ts';
import type { GateVerdict } from './permissions/tool-gate.ts';
import type { AgentTool } from './tools/agent-tool.ts';
import type { WorkspaceGuard } from './tools/workspace-guard.ts';

/** What one task's tool calls run with. */
export interface ToolCallEnv {
  ctx: TaskContext;
  guard: WorkspaceGuard;
  /** The tools the agent was granted, by name. */
  tools: Map<string, AgentTool>;
  /** Where `run_command` runs; undefined: unconfined. Asked only when a tool runs. */
  sandbox: () => ShellSandbox | undefined;
}

/**
 * Runs one model turn's tool calls, each already decided by the permission gate, and answers
 * them in the order they were asked. `turnSaved` is the turn's usage and checkpoint on their way
 * to disk: a call with side effects waits for it, so a crash from then on resumes with these
 * calls and never with a new request that might ask for other ones. Calls that change nothing
 * (read-only tools, refused or unknown ones) need not: they run side by side while it is written.
 */
export async function runToolCalls(
  env: ToolCallEnv,
  calls: ToolUseBlockParam[],
  verdicts: GateVerdict[],
  turnSaved: Promise<unknown> | undefined,
): Promise<ToolResultBlockParam[]> {
  const run = (call: ToolUseBlockParam, i: number) => runTool(env, call, verdicts[i]!);
  const harmless = (call: ToolUseBlockParam, i: number) => verdicts[i]!.kind !== 'run' || env.tools.get(call.name)?.readOnly !== false;
  if (calls.every(harmless)) {
    const [results] = await Promise.all([Promise.all(calls.map(run)), turnSaved]);
    return results;
  }
  await turnSaved;
  const results: ToolResultBlockParam[] = [];
  for (const [i, call] of calls.entries()) results.push(await run(call, i));
  return results;
}

async function runTool(env: ToolCallEnv, call: ToolUseBlockParam, verdict: GateVerdict): Promise<ToolResultBlockParam> {
  const { ctx, guard } = env;
  const tool = env.tools.get(call.name);
  if (!tool) return { type: 'tool_result', tool_use_id: call.id, content: `unknown tool ${call.name}`, is_error: true };
  if (verdict.kind === 'refuse') {
    ctx.log(`← ${call.name} refused: ${verdict.message}\n`);
    return { type: 'tool_result', tool_use_id: call.id, content: verdict.message, is_error: true };
  }
  try {
    const sandbox = env.sandbox();
    const content = await tool.run(call.input, { ctx, guard, toolUseId: call.id, ...(sandbox ? { sandbox } : {}) });
    ctx.log(`← ${call.name}: ${oneLine(content, 200)}\n`);
    return { type: 'tool_result', tool_use_id: call.id, content };
  } catch (error) {
    throwIfAborted(ctx);
    const content = errorMessage(error);
    ctx.log(`← ${call.name} failed: ${content}\n`);
    return { type: 'tool_result', tool_use_id: call.id, content, is_error: true };
  }
}

/** A cancelled agent stops with a TaskError saying why; one that timed out may be retried. */
export function throwIfAborted(ctx: TaskContext): void {
  if (!ctx.signal.aborted) return;
  const reason = abortReason(ctx.signal) ?? 'cancelled';
  throw new TaskError(`agent ${reason}`, reason === 'timeout');
}
