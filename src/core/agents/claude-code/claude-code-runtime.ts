import type { Options, Query, SDKResultMessage, SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import { describeRequest, type Budget, type InputRequest } from '../../model/input-request.ts';
import { abortReason, NeedsInput, TaskError, type TaskContext, type TaskOutput } from '../../runners/task-runner.ts';
import type { ShellSandbox } from '../../sandbox/shell-sandbox.ts';
import { errorMessage } from '../../util/logger.ts';
import type { AgentDefinition } from '../agent-definition.ts';
import { budgetRequest, type TurnSpend } from '../budget-check.ts';
import { suggestRule, type PermissionRules } from '../permissions/permission-rules.ts';
import { WorkspaceGuard } from '../tools/workspace-guard.ts';
import { readClaudeCodeCheckpoint, type ClaudeCodeCheckpoint } from './claude-code-checkpoint.ts';
import { CLAUDE_CODE_INSTALL_HELP, findClaudeCode } from './claude-code-executable.ts';
import { abbreviate, followMessage } from './claude-code-messages.ts';
import { ClaudeCodeGrant } from './claude-code-permissions.ts';
import { bashSandbox, claudeCodeEnv, spawnInOwnGroup, TailBuffer } from './claude-code-process.ts';
import { countTokens, noTokens, recordCrashedRun, recordResult, unreportedSpend, type StreamedRequest } from './claude-code-usage.ts';
import { loadClaudeAgentSdk, type ClaudeAgentSdk } from './load-claude-agent-sdk.ts';

/** What a claude-code task may do and spend, merged as for our own runtime (AgentRunner). */
export interface ClaudeCodePolicy {
  /** The agent file's, the workflow's, the settings' and the run's ("allow for this run") rules. */
  rules: PermissionRules;
  /** The budget of a task that sets none (the setting). */
  budget: Budget | undefined;
}

export interface ClaudeCodeRuntimeOptions {
  /** `orchestr8.claudeCodePath`, read as each task starts. */
  claudeCodePath?: string | (() => string | undefined);
  /** Environment of the Claude Code process. Default `process.env` (its login or ANTHROPIC_API_KEY, PATH, HOME). */
  env?: NodeJS.ProcessEnv;
  /** Messages API base URL for Claude Code (`ANTHROPIC_BASE_URL`), when set. */
  baseURL?: () => string | undefined;
  /** Model turns when the agent file sets no `max_turns`. */
  maxTurns: number;
  /** Tests: a stand-in for the lazily loaded SDK. */
  loadSdk?: () => Promise<ClaudeAgentSdk>;
  /**
   * The OS sandbox our own shell tool uses: a granted Bash runs in Claude Code's sandbox under the
   * same rules (bubblewrap / Seatbelt, the same writable folders, hidden secrets and allowed hosts).
   * `false`: never (the user turned the sandbox off).
   */
  sandbox?: () => ShellSandbox | false;
}

/** What a resumed session is told: the task prompt is already in its transcript. */
const RESUME_PROMPT = 'Your previous run of this task was interrupted. Continue the task from where you stopped, then give your final answer.';
/** What a session stopped on a question is told after the user's answer. */
const CONTINUE_PROMPT = 'Continue the task from where you stopped, then give your final answer.';
/** What Claude Code says when asked to resume a session it has no transcript of. */
const SESSION_LOST = /no conversation found/i;
/** Time Claude Code gets to stop after an interrupt before its process group is killed. */
const INTERRUPT_GRACE_MS = 3_000;

/**
 * Runs an agent task through Claude Code's own agent loop (`query()` of the agent SDK) in
 * the task folder. Its stream goes to the task log; its session id is checkpointed as soon
 * as it starts and each turn, so a crashed or retried attempt resumes the same session;
 * every tool call is decided by the agent file's grant (hook and `canUseTool`); usage
 * and cost come from its result message. A Bash command no allow rule covers, or a budget the
 * next request would pass, stops Claude Code and parks the task (`NeedsInput`, the question
 * checkpointed with the session); the attempt after the answer resumes the session, told what
 * the user decided. Continue… resumes it with the follow-up prompt.
 */
export class ClaudeCodeRuntime {
  constructor(private readonly options: ClaudeCodeRuntimeOptions) {}

  async execute(ctx: TaskContext, def: AgentDefinition, prompt: string, model: string | undefined, policy: ClaudeCodePolicy): Promise<TaskOutput> {
    const saved = readClaudeCodeCheckpoint(await ctx.loadCheckpoint(), def.name);
    const followUps = ctx.task.followUps ?? [];
    const pending = followUps.slice(saved?.followUpsTaken ?? 0);
    if (saved?.result !== undefined && !pending.length)
      return { output: saved.result, data: { runtime: 'claude-code', sessionId: saved.sessionId, turns: saved.turn } };

    const executable = this.findExecutable();
    const sdk = await (this.options.loadSdk ?? loadClaudeAgentSdk)().catch((error: unknown) => {
      throw new TaskError(`could not load @anthropic-ai/claude-agent-sdk: ${errorMessage(error)}`, false);
    });
    const guard = await WorkspaceGuard.open(ctx.cwd);
    const grant = ClaudeCodeGrant.fromAgentTools(def.tools, guard, policy.rules);
    const state: ClaudeCodeCheckpoint = saved ?? { version: 1, runtime: 'claude-code', agent: def.name, sessionId: '', turn: 0 };
    if (state.unreported) await recordCrashedRun(ctx, state);
    if (state.asked) await this.takeAnswer(ctx, state);
    if (pending.length) {
      // Continue…: the session goes on with the new prompt. Durable before Claude Code starts, so a
      // crash from here on resumes the session reminded of it rather than sending it as new twice.
      delete state.result;
      state.followUpsTaken = followUps.length;
      state.followUp = pending.join('\n\n');
      await ctx.saveCheckpoint(structuredClone(state));
      ctx.log(`[agent ${def.name}: continuing the conversation with: ${abbreviate(state.followUp)}]\n`);
    }
    const over = await this.overBudget(ctx, state, policy.budget);
    if (over) await this.park(ctx, state, over);

    if (state.sessionId) ctx.log(`[agent ${def.name} on Claude Code: resuming session ${state.sessionId} after turn ${state.turn}]\n`);
    else ctx.log(`[agent ${def.name} on Claude Code (${executable.path}, from ${executable.source})${model ? ` with ${model}` : ''}]\n`);

    const fresh = [prompt, ...followUps].join('\n\n');
    const s = { def, grant, guard, state, budget: policy.budget, executable: executable.path, model };
    const first = await this.session(ctx, sdk, { ...s, prompt: state.sessionId ? resumePrompt(state, pending.length > 0) : fresh });
    if (first !== 'session-lost') return first;
    // Its transcript is gone (another machine, a cleared ~/.claude): start the task over in a new session.
    ctx.log(`[session ${state.sessionId} could not be resumed; starting over]\n`);
    state.sessionId = '';
    return (await this.session(ctx, sdk, { ...s, prompt: fresh })) as TaskOutput;
  }

  /**
   * The task parked on `state.asked`: the user's answer becomes what the resumed session is told
   * (and a command allowed once, which runs when the model issues it again). No answer yet (the
   * engine died before the task parked durably, say): it parks again without starting Claude Code.
   */
  private async takeAnswer(ctx: TaskContext, state: ClaudeCodeCheckpoint): Promise<void> {
    const asked = state.asked!;
    // The latest: a budget asked about again (after a Continue…) has the same id as the first time.
    const answer = [...(ctx.task.answers ?? [])].reverse().find((a) => a.requestId === asked.id);
    if (!answer) {
      ctx.log(`\n[needs input: ${describeRequest(asked)}]\n`);
      throw new NeedsInput(asked);
    }
    delete state.asked;
    if (asked.kind === 'permission') {
      const command = asked.call.slice('Bash('.length, -1);
      if (answer.decision === 'allow') {
        state.approved = command;
        state.notes = [
          ...(state.notes ?? []),
          `The user allowed the command \`${command}\`${answer.always ? ` (and ${asked.rule} for the rest of this run)` : ''}. ` +
            'Run it again now: it will be allowed.',
        ];
      } else {
        delete state.approved;
        state.notes = [
          ...(state.notes ?? []),
          `The user denied the command \`${command}\`${answer.reason ? `: ${answer.reason}` : '.'} Do not run it; go on without it.`,
        ];
      }
    } else if (answer.decision === 'allow') {
      state.notes = [...(state.notes ?? []), 'The user raised your budget.'];
    }
    // Durable at once: the answer is in the task's record, what it means for the session is here now.
    await ctx.saveCheckpoint(structuredClone(state));
  }

  /** The budget request to park on when the next model turn would pass the task's budget or its run's. */
  private overBudget(ctx: TaskContext, state: ClaudeCodeCheckpoint, fallback: Budget | undefined, unrecorded?: TurnSpend): Promise<InputRequest | undefined> {
    return budgetRequest(ctx, fallback, state.lastTurn, Date.now(), unrecorded);
  }

  /** Parks the task on `request`, saved first with the session, so that the next attempt applies the answer to it. */
  private async park(ctx: TaskContext, state: ClaudeCodeCheckpoint, request: InputRequest): Promise<never> {
    state.asked = request;
    await ctx.saveCheckpoint(structuredClone(state));
    ctx.log(`\n[needs input: ${describeRequest(request)}]\n`);
    throw new NeedsInput(request);
  }

  private findExecutable() {
    const configured = typeof this.options.claudeCodePath === 'function' ? this.options.claudeCodePath() : this.options.claudeCodePath;
    try {
      const found = findClaudeCode({ ...(configured ? { configuredPath: configured } : {}), env: this.env });
      if (found) return found;
    } catch (error) {
      throw new TaskError(errorMessage(error), false);
    }
    throw new TaskError(CLAUDE_CODE_INSTALL_HELP, false);
  }

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  private async session(
    ctx: TaskContext,
    sdk: ClaudeAgentSdk,
    s: {
      def: AgentDefinition;
      grant: ClaudeCodeGrant;
      guard: WorkspaceGuard;
      state: ClaudeCodeCheckpoint;
      budget: Budget | undefined;
      executable: string;
      model: string | undefined;
      prompt: string;
    },
  ): Promise<TaskOutput | 'session-lost'> {
    const { def, grant, state } = s;
    const resuming = state.sessionId !== '';
    const sandbox = s.grant.tools.includes('Bash') ? await bashSandbox(ctx, s.guard.root, this.options.sandbox) : undefined;
    const abort = new AbortController();
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const stderr = new TailBuffer(4_000);
    /** The question this run stopped on; the task parks on it once Claude Code has stopped. */
    let parked: InputRequest | undefined;
    /** The tool-use id of the call that took the user's "allow once", which the hook and then canUseTool both ask about. */
    let approvedCall: string | undefined;
    const decide = async (
      toolName: string,
      input: Record<string, unknown>,
      toolUseId: string,
    ): Promise<{ kind: 'allow' } | { kind: 'deny' | 'ask'; message: string }> => {
      const verdict = await grant.check(toolName, input);
      if (verdict.kind === 'allow') return verdict;
      if (verdict.kind === 'deny') {
        ctx.log(`[${verdict.message}]\n`);
        return verdict;
      }
      if (toolUseId === approvedCall) return { kind: 'allow' };
      if (state.approved !== undefined && state.approved === verdict.command) {
        // Allowed once by the user: this call (asked about by both the hook and canUseTool), and no other.
        approvedCall = toolUseId;
        delete state.approved;
        await ctx.saveCheckpoint(structuredClone(state));
        return { kind: 'allow' };
      }
      parked ??= { kind: 'permission', id: toolUseId, tool: 'Bash', call: `Bash(${verdict.command})`, rule: suggestRule(verdict.command), askedAt: Date.now() };
      return { kind: 'ask', message: `Orchestr8 asked the user for permission to run \`${verdict.command}\`; the task waits for the answer.` };
    };

    const options: Options = {
      cwd: s.guard.root,
      pathToClaudeCodeExecutable: s.executable,
      abortController: abort,
      env: claudeCodeEnv(this.env, this.options.baseURL?.()),
      // Its own settings (permission deny rules, hooks, MCP servers) and the project's CLAUDE.md apply,
      // under our hook and canUseTool below.
      settingSources: ['user', 'project', 'local'],
      permissionMode: 'default',
      tools: [...s.grant.tools],
      systemPrompt: { type: 'preset', preset: 'claude_code', append: def.systemPrompt },
      maxTurns: def.maxTurns ?? this.options.maxTurns,
      includePartialMessages: true,
      ...(s.model ? { model: s.model } : {}),
      ...(resuming ? { resume: state.sessionId } : {}),
      ...(sandbox ? { sandbox } : {}),
      hooks: {
        PreToolUse: [
          {
            hooks: [
              async (input) => {
                if (input.hook_event_name !== 'PreToolUse') return {};
                const verdict = await decide(input.tool_name, (input.tool_input ?? {}) as Record<string, unknown>, input.tool_use_id);
                if (verdict.kind === 'allow') return {};
                // Asking stops the session here (continue: false), even where the user's settings would allow the
                // call: the task parks, and no tokens are spent while it waits.
                return {
                  ...(verdict.kind === 'ask' ? { continue: false, stopReason: verdict.message } : {}),
                  hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.message },
                };
              },
            ],
          },
        ],
        // After a batch of tool calls, before the model request that follows it: where a budget stops the session.
        PostToolBatch: [
          {
            hooks: [
              async (input) => {
                if (input.hook_event_name !== 'PostToolBatch' || parked) return {};
                const over = await this.overBudget(ctx, state, s.budget, unreportedSpend(state));
                if (!over) return {};
                parked = over;
                ctx.log(`\n[${describeRequest(over)}: stopping Claude Code before its next request]\n`);
                return { continue: false, stopReason: describeRequest(over) };
              },
            ],
          },
        ],
      },
      canUseTool: async (toolName, input, { toolUseID }) => {
        const verdict = await decide(toolName, input, toolUseID);
        if (verdict.kind === 'allow') return { behavior: 'allow', updatedInput: input };
        return { behavior: 'deny', message: verdict.message, ...(verdict.kind === 'ask' ? { interrupt: true } : {}) };
      },
      spawnClaudeCodeProcess: (spawnOptions) => spawnInOwnGroup(ctx, spawnOptions, stderr),
    };

    const q: Query = sdk.query({ prompt: oneMessage(s.prompt, finished), options });
    const onAbort = () => {
      ctx.log(`\n[${abortReason(ctx.signal) ?? 'cancelled'}: interrupting Claude Code]\n`);
      // Only a shutdown path: an interrupt that fails is followed by the abort below, which kills the process.
      q.interrupt().catch(() => {});
      setTimeout(() => abort.abort(), INTERRUPT_GRACE_MS).unref();
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });

    const toolNames = new Map<string, string>();
    const seenMessages = new Set<string>();
    const request: StreamedRequest = { model: '', tokens: noTokens() };
    let result: SDKResultMessage | undefined;
    let assistantMessages = 0;
    try {
      for await (const message of q) {
        if (message.type === 'result') {
          result = message;
          finish();
          continue;
        }
        if (message.type === 'assistant') assistantMessages += 1;
        if (message.type === 'stream_event' && message.parent_tool_use_id === null) await countTokens(ctx, message.event, state, request);
        await followMessage(ctx, message, state, toolNames, seenMessages);
      }
    } catch (error) {
      // canUseTool's interrupt ends the stream with an error result (the hook, which asks first, stops it cleanly).
      if (parked && !ctx.signal.aborted) return this.park(ctx, state, parked);
      if (resuming && assistantMessages === 0 && !ctx.signal.aborted && SESSION_LOST.test(errorMessage(error))) return 'session-lost';
      throw this.toTaskError(ctx, error, stderr);
    } finally {
      finish();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (ctx.signal.aborted) {
      // The interrupted run's result still says what it cost.
      if (result) await recordResult(ctx, state, result);
      const reason = abortReason(ctx.signal) ?? 'cancelled';
      throw new TaskError(`agent ${reason}`, reason === 'timeout');
    }
    if (parked) {
      // What the stopped run cost is recorded with the question (not its text as an answer: the task is not done).
      if (result) await recordResult(ctx, state, result, false);
      return this.park(ctx, state, parked);
    }
    if (!result) throw new TaskError(`Claude Code ended without a result${stderr.text ? `: ${stderr.text}` : ''}`, true);
    if (resuming && result.subtype !== 'success' && assistantMessages === 0 && SESSION_LOST.test(result.errors.join(' '))) return 'session-lost';
    return this.finish(ctx, def, state, result);
  }

  private async finish(ctx: TaskContext, def: AgentDefinition, state: ClaudeCodeCheckpoint, result: SDKResultMessage): Promise<TaskOutput> {
    await recordResult(ctx, state, result);
    if (result.subtype === 'success' && !result.is_error)
      return { output: result.result, data: { runtime: 'claude-code', sessionId: state.sessionId, turns: state.turn } };
    const denials = result.permission_denials.length ? ` (${result.permission_denials.length} tool calls denied)` : '';
    if (result.subtype === 'success') throw new TaskError(`Claude Code: ${result.result || 'the turn ended on an API error'}`, true);
    if (result.subtype === 'error_max_turns') throw new TaskError(`agent ${def.name} reached its limit of turns without a final answer${denials}`, false);
    if (result.subtype === 'error_max_budget_usd') throw new TaskError(`agent ${def.name} reached its budget${denials}`, false);
    throw new TaskError(`Claude Code failed (${result.subtype})${result.errors.length ? `: ${result.errors.join('; ')}` : ''}${denials}`, true);
  }

  private toTaskError(ctx: TaskContext, error: unknown, stderr: TailBuffer): TaskError {
    if (ctx.signal.aborted) {
      const reason = abortReason(ctx.signal) ?? 'cancelled';
      return new TaskError(`agent ${reason}`, reason === 'timeout');
    }
    if (error instanceof TaskError) return error;
    return new TaskError(`Claude Code failed: ${errorMessage(error)}${stderr.text ? ` (${stderr.text})` : ''}`, true);
  }
}

/** Streaming input with one message: the process stays up (and can be interrupted) until the result arrives. */
async function* oneMessage(prompt: string, finished: Promise<void>): AsyncGenerator<SDKUserMessage> {
  yield { type: 'user', message: { role: 'user', content: prompt }, parent_tool_use_id: null };
  await finished;
}

/**
 * What a resumed session is told: the user's answers first, then the Continue… prompt it is
 * given now, or else to continue (reminded of the Continue… prompt its interrupted run worked on).
 */
function resumePrompt(state: ClaudeCodeCheckpoint, followingUp: boolean): string {
  const notes = state.notes ?? [];
  if (followingUp) return [...notes, state.followUp!].join('\n\n');
  if (notes.length) return [...notes, CONTINUE_PROMPT].join('\n\n');
  return state.followUp ? `${RESUME_PROMPT} You were working on: ${state.followUp}` : RESUME_PROMPT;
}
