import { Anthropic } from '@anthropic-ai/sdk';
import type { ContentBlockParam, Message, TextBlockParam, Tool, ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import { NeedsInput, PauseRun, TaskError, type TaskContext, type TaskOutput, type TaskRunner } from '../runners/task-runner.ts';
import { agentRequestError } from './agent-request-error.ts';
import { AgentFileCache, catalogFromSnapshot, loadAgentCatalog } from './agent-catalog.ts';
import { readCheckpoint, takeFollowUps, type AgentCheckpoint, type ConversationMessage } from './agent-checkpoint.ts';
import type { AgentDefinition } from './agent-definition.ts';
import { DEFAULT_AGENT_MODEL, resolveAgentModel } from './agent-model.ts';
import { resolveAgentRuntime } from './agent-runtime.ts';
import { ClaudeCodeRuntime } from './claude-code/claude-code-runtime.ts';
import { costUsd } from './model-prices.ts';
import { captureConsoleWarnings } from './sdk-warnings.ts';
import type { AgentTool } from './tools/agent-tool.ts';
import { selectTools } from './tools/agent-tool-set.ts';
import { WorkspaceGuard } from './tools/workspace-guard.ts';
import { runToolCalls, throwIfAborted } from './tool-calls.ts';
import { oneLine } from '../util/text-format.ts';
import { sharedShellSandbox, type ShellSandbox } from '../sandbox/shell-sandbox.ts';
import type { Budget } from '../model/input-request.ts';
import { mergeRules, type PermissionRules } from './permissions/permission-rules.ts';
import { ToolGate, type GateVerdict } from './permissions/tool-gate.ts';
import { budgetRequest, type TurnSpend } from './budget-check.ts';

/** Where the API key comes from: a value, or a lookup (the extension reads SecretStorage). */
export type ApiKeySource = string | (() => string | undefined | Promise<string | undefined>);

export interface AgentRunnerOptions {
  /** Default: `ANTHROPIC_API_KEY` from the environment. Never logged or stored. */
  apiKey?: ApiKeySource;
  /**
   * Default: `ANTHROPIC_BASE_URL` from the environment, else the SDK's default. A function is
   * read when each task starts (the extension's setting, which may change without a restart).
   */
  baseURL?: string | (() => string | undefined);
  /** For `model: inherit` or no model. Default `DEFAULT_AGENT_MODEL`. */
  defaultModel?: string;
  /** The SDK's own retries of one request (429, 5xx, 529, connection errors), honouring `retry-after`. Default 4. */
  maxRetries?: number;
  /** Model turns per task when the agent file sets no `max_turns`. Default 50. */
  maxTurns?: number;
  /** `max_tokens` of each request. Default 16000. */
  maxTokens?: number;
  /** Timeout of one request in the SDK (retried by it). Default 10 minutes. */
  requestTimeoutMs?: number;
  /** `cache_control` on system prompt, tools and the conversation so far. Default true. */
  promptCaching?: boolean;
  /** Extra agent folders, searched before the project's own (bundled examples, `~/.claude/agents`). */
  agentDirs?: string[];
  /** Environment to read defaults from (tests). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Hears each SDK warning (a deprecated model) once per model per runner, like the logger:
   * a front end can show it (the extension raises a warning toast).
   */
  onWarning?: (warning: string, model: string) => void;
  /**
   * `orchestr8.agentRuntime`: the runtime of agent tasks whose task and agent file name none
   * (`orchestr8`, the default, or `claude-code`; see agent-runtime.ts). A function is read as each task starts.
   */
  runtime?: string | (() => string | undefined);
  /** `orchestr8.claudeCodePath`: the `claude` executable for claude-code tasks; none: the SDK's platform package, else PATH. */
  claudeCodePath?: string | (() => string | undefined);
  /**
   * Where agents' `run_command` runs: default the process's shared OS sandbox (loaded when the
   * first command runs); `false`: unconfined, behind the text checks only.
   */
  sandbox?: ShellSandbox | false;
  /** `orchestr8.permissions`: allow / deny rules for every agent (`Bash(npm test:*)`), under the agent file's and the workflow's. */
  permissions?: Partial<PermissionRules> | (() => Partial<PermissionRules> | undefined);
  /** `orchestr8.budget`: the budget of agent tasks that set none. */
  budget?: Budget | (() => Budget | undefined);
}

const KEY_HELP =
  'No Anthropic API key. Set ANTHROPIC_API_KEY in the environment of the orchestr8 CLI, ' +
  'or run "Orchestr8: Set Anthropic API Key" in VS Code (stored in SecretStorage).';

/**
 * Runs `agent` tasks: a tool-using Claude conversation on the Messages API, streamed
 * into the task log, checkpointed after every turn so a crash or reload resumes
 * where it stopped, with per-turn token use and cost recorded.
 */
export class AgentRunner implements TaskRunner {
  readonly kind = 'agent';
  private readonly warnedModels = new Set<string>();
  private readonly agentFiles = new AgentFileCache();
  private readonly claudeCode: ClaudeCodeRuntime;
  private client?: { apiKey: string; baseURL: string | null; client: Anthropic };

  constructor(private readonly options: AgentRunnerOptions = {}) {
    this.claudeCode = new ClaudeCodeRuntime({
      ...(options.claudeCodePath ? { claudeCodePath: options.claudeCodePath } : {}),
      ...(options.env ? { env: options.env } : {}),
      baseURL: () => this.baseURL(options.env ?? process.env) ?? undefined,
      maxTurns: options.maxTurns ?? 50,
      sandbox: () => (options.sandbox === false ? false : (options.sandbox ?? sharedShellSandbox())),
    });
  }

  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const action = ctx.action;
    if (action.kind !== 'agent') throw new TaskError(`AgentRunner cannot run a "${action.kind}" task`, false);
    const env = this.options.env ?? process.env;
    const def = await this.findAgent(ctx, action.agent);
    const model = resolveAgentModel(action.model, def.model, this.options.defaultModel ?? DEFAULT_AGENT_MODEL);
    const setting = typeof this.options.runtime === 'function' ? this.options.runtime() : this.options.runtime;
    // Claude Code signs in its own way (the user's login or ANTHROPIC_API_KEY in its environment).
    if (resolveAgentRuntime(action.runtime, def.runtime, setting) === 'claude-code') {
      return this.claudeCode.execute(ctx, def, action.prompt, model, { rules: this.rules(ctx, def), budget: this.defaultBudget() });
    }

    const apiKey = await this.apiKey(env);
    if (!apiKey) throw new TaskError(KEY_HELP, false);
    const { tools, ignored } = selectTools(def.tools);
    if (ignored.length) ctx.log(`[agent ${def.name}: tools not available here, ignored: ${ignored.join(', ')}]\n`);
    const guard = await WorkspaceGuard.open(ctx.cwd);
    const maxTurns = def.maxTurns ?? this.options.maxTurns ?? 50;

    const client = this.clientFor(apiKey, this.baseURL(env));

    const resumed = readCheckpoint(await ctx.loadCheckpoint(), def.name);
    let state: AgentCheckpoint = resumed
      ? { ...resumed, model }
      : // Follow-ups without a conversation to continue (none was saved) go with the first prompt.
        {
          version: 1,
          agent: def.name,
          model,
          turn: 0,
          messages: [{ role: 'user', content: [action.prompt, ...(ctx.task.followUps ?? [])].join('\n\n') }],
          followUpsTaken: ctx.task.followUps?.length ?? 0,
        };
    if (resumed) ctx.log(`[agent ${def.name}: resuming from checkpoint after turn ${resumed.turn}]\n`);
    else ctx.log(`[agent ${def.name} on ${model}]\n`);
    const continued = takeFollowUps(state, ctx.task.followUps);
    if (continued) {
      state = continued;
      ctx.log(`[agent ${def.name}: continuing the conversation with: ${oneLine(String(state.messages.at(-1)!.content), 200)}]\n`);
      // Durable before the request: a crash from here on resumes with the prompt taken, not sent twice.
      await ctx.saveCheckpoint(state);
    }

    const system = this.systemBlocks(def, guard.root);
    const toolParams = this.toolParams(tools);
    const toolsByName = new Map(tools.map((t) => [t.name, t]));

    const gate = new ToolGate(this.rules(ctx, def), ctx.task.answers ?? []);
    let lastTurn: TurnSpend | undefined;
    let pendingSave: Promise<void> | undefined;
    // The last model turn's usage and checkpoint, while they are on their way to disk.
    let turnSave: Promise<unknown> | undefined;
    for (;;) {
      // Stopped before the turn's tools ran: an interrupted task resumes from that turn, not a new request.
      if (ctx.signal.aborted) await turnSave?.catch(() => {});
      throwIfAborted(ctx);
      const last = state.messages.at(-1)!;
      if (last.role === 'assistant') {
        const calls = toolUses(last);
        // A final answer that was checkpointed before the task could complete: return it without a new request.
        if (!calls.length) return { output: textOf(last), data: { turns: state.turn, model } };
        // Every call of the turn is decided before any runs: a call that must ask parks the task
        // with none of them done, so the resumed attempt runs the turn's calls exactly once.
        // A tool the agent was not granted is answered "unknown tool" (tool-calls.ts); only granted ones are gated.
        const verdicts = calls.map((call): GateVerdict => (toolsByName.has(call.name) ? gate.verdict(call, Date.now()) : { kind: 'run' }));
        const asking = verdicts.find((v) => v.kind === 'ask');
        if (asking?.kind === 'ask') {
          await turnSave; // parked with the tool calls durable, so the resumed attempt asks no new paid request
          ctx.log(`\n[needs input: permission to run ${asking.request.kind === 'permission' ? asking.request.call : ''}]\n`);
          throw new NeedsInput(asking.request);
        }
        const results = await runToolCalls({ ctx, guard, tools: toolsByName, sandbox: () => this.sandbox() }, calls, verdicts, turnSave);
        turnSave = undefined;
        // A new state object at each change (never mutated after): a save may encode it later.
        state = { ...state, messages: [...state.messages, { role: 'user', content: results }] };
        // Saved while the next request is already on its way: losing it in a crash only means the
        // tools run again on resume, exactly as if the crash came a moment earlier.
        pendingSave = ctx.saveCheckpoint(state);
        // Awaited with the next model turn; this keeps an early exit (cancel, max turns) from leaving it unhandled.
        pendingSave.catch(() => {});
        continue;
      }

      if (state.turn - (state.followUpAt ?? 0) >= maxTurns)
        throw new TaskError(`agent ${def.name} reached its limit of ${maxTurns} turns without a final answer`, false);
      // Between turns: a paused run or a budget the next turn would pass stops here, its tool results saved first.
      if (ctx.runPaused?.()) {
        await pendingSave;
        throw new PauseRun('the run is paused', undefined, 'run-paused');
      }
      const over = await budgetRequest(ctx, this.defaultBudget(), lastTurn, Date.now());
      if (over) {
        await pendingSave;
        ctx.log(`\n[needs input: budget reached; raise the budget or stop]\n`);
        throw new NeedsInput(over);
      }
      const turn = this.modelTurn(ctx, client, { model, def, system, tools: toolParams, messages: state.messages });
      const [message] = await Promise.all([turn, pendingSave]);
      pendingSave = undefined;
      state = { ...state, turn: state.turn + 1, messages: [...state.messages, { role: 'assistant', content: message.content as ContentBlockParam[] }] };
      // Usage and checkpoint go out together (one group commit) and are durable before any tool
      // runs: a crash from here on resumes with the tool calls, not with a new paid request.
      const usage = this.recordUsage(ctx, state.turn, model, message);
      lastTurn = usage.spend;
      const saved = Promise.all([usage.recorded, ctx.saveCheckpoint(state)]);
      // Tool calls wait for it as they must (above). A final answer returns at once: its saves share
      // the commit of the task's completion, which every executor stores after them (TaskContext).
      if (toolUses(state.messages.at(-1)!).length) turnSave = saved;
      saved.catch(() => {}); // a failed save fails what waits for it (tools, the completion), not this promise
      if (message.stop_reason === 'max_tokens' && !toolUses(state.messages.at(-1)!).length) {
        ctx.log(`\n[turn ${state.turn} stopped at max_tokens; the answer may be cut off]\n`);
      }
    }
  }

  /** One client while key and URL stay the same: its construction and connections are not paid again by every task. */
  private clientFor(apiKey: string, baseURL: string | null): Anthropic {
    if (this.client?.apiKey !== apiKey || this.client.baseURL !== baseURL) {
      const client = new Anthropic({
        apiKey,
        baseURL,
        maxRetries: this.options.maxRetries ?? 4,
        timeout: this.options.requestTimeoutMs ?? 10 * 60_000,
        // Its own logger would print to the console of a background process; failures surface as TaskErrors instead.
        logLevel: 'off',
      });
      this.client = { apiKey, baseURL, client };
    }
    return this.client.client;
  }

  private baseURL(env: NodeJS.ProcessEnv): string | null {
    return (typeof this.options.baseURL === 'function' ? this.options.baseURL() : this.options.baseURL) || env.ANTHROPIC_BASE_URL || null;
  }

  private async apiKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
    const source = this.options.apiKey;
    const key = typeof source === 'function' ? await source() : (source ?? env.ANTHROPIC_API_KEY);
    return key?.trim() || undefined;
  }

  private async findAgent(ctx: TaskContext, name: string): Promise<AgentDefinition> {
    // The definitions read from the project folder at launch, when the run kept them (a worktree run):
    // the worktree holds only what HEAD had, and a retry or resume must use what the run started with.
    const snapshot = ctx.run.delivery?.agentFiles;
    const catalog = snapshot
      ? await catalogFromSnapshot(ctx.run.delivery?.projectDir ?? ctx.cwd, snapshot, this.options.agentDirs, this.agentFiles)
      : await loadAgentCatalog(ctx.cwd, this.options.agentDirs, this.agentFiles);
    for (const error of catalog.errors) {
      ctx.logger.warn(`agent file skipped: ${error.message}`);
      ctx.log(`[agent file skipped: ${error.message}]\n`);
    }
    const def = catalog.agents.get(name);
    if (def) return def;
    const known = [...catalog.agents.keys()].sort().join(', ') || 'none';
    throw new TaskError(`unknown agent "${name}" (known: ${known}); agents are read from .orchestr8/agents, .claude/agents and plugins/*/agents`, false);
  }

  private systemBlocks(def: AgentDefinition, root: string): TextBlockParam[] {
    const where = `You work in the folder ${root}. File tool paths are relative to it and cannot leave it.`;
    const text = `${def.systemPrompt}\n\n<environment>\n${where}\n</environment>`;
    return [{ type: 'text', text, ...(this.caching ? { cache_control: { type: 'ephemeral' as const } } : {}) }];
  }

  private toolParams(tools: AgentTool[]): Tool[] {
    return tools.map((t, i) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema as Tool['input_schema'],
      // One breakpoint after the last tool caches the whole (stable) tool list.
      ...(this.caching && i === tools.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
    }));
  }

  private sandbox(): ShellSandbox | undefined {
    return this.options.sandbox === false ? undefined : (this.options.sandbox ?? sharedShellSandbox());
  }

  private get caching(): boolean {
    return this.options.promptCaching ?? true;
  }

  private async modelTurn(
    ctx: TaskContext,
    client: Anthropic,
    req: { model: string; def: AgentDefinition; system: TextBlockParam[]; tools: Tool[]; messages: ConversationMessage[] },
  ): Promise<Message> {
    const params = {
      model: req.model,
      max_tokens: this.options.maxTokens ?? 16_000,
      system: req.system,
      messages: this.caching ? withConversationBreakpoint(req.messages) : req.messages,
      ...(req.tools.length ? { tools: req.tools } : {}),
      ...(req.def.temperature !== undefined ? { temperature: req.def.temperature } : {}),
    };
    try {
      const { value: stream, warnings } = captureConsoleWarnings(() => client.messages.stream(params, { signal: ctx.signal }));
      for (const warning of warnings) this.surfaceWarning(ctx, req.model, warning);
      stream.on('text', (delta) => ctx.log(delta));
      stream.on('contentBlock', (block) => {
        if (block.type === 'tool_use') ctx.log(`\n→ ${block.name} ${oneLine(JSON.stringify(block.input), 200)}\n`);
      });
      return await stream.finalMessage();
    } catch (error) {
      throw agentRequestError(ctx.signal, error, this.options.maxRetries ?? 4);
    }
  }

  private surfaceWarning(ctx: TaskContext, model: string, warning: string): void {
    ctx.log(`[warning from the Anthropic SDK: ${warning}]\n`);
    // Once per model per process in the logger; every affected task still shows it in its log.
    if (!this.warnedModels.has(model)) {
      this.warnedModels.add(model);
      ctx.logger.warn(warning);
      this.options.onWarning?.(warning, model);
    }
  }

  private recordUsage(ctx: TaskContext, turn: number, model: string, message: Message): { spend: TurnSpend; recorded: Promise<void> } {
    const u = message.usage;
    const tokens = {
      inputTokens: u.input_tokens ?? 0,
      outputTokens: u.output_tokens ?? 0,
      cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
      cacheReadTokens: u.cache_read_input_tokens ?? 0,
    };
    const cost = costUsd(model, tokens);
    if (cost === undefined && !this.warnedModels.has(`price:${model}`)) {
      this.warnedModels.add(`price:${model}`);
      ctx.logger.warn(`no price for model ${model} in model-prices.ts; its cost is recorded as 0`);
    }
    const recorded = ctx.recordUsage({ turn, model, ...tokens, costUsd: cost ?? 0 });
    // Said at once rather than once durable: the final turn's record is not awaited before the task returns (see execute).
    ctx.log(
      `\n[turn ${turn}: ${tokens.inputTokens} in, ${tokens.outputTokens} out, ` +
        `cache ${tokens.cacheWriteTokens} written / ${tokens.cacheReadTokens} read, $${(cost ?? 0).toFixed(4)}]\n`,
    );
    return { spend: { usd: cost ?? 0, tokens: tokens.inputTokens + tokens.outputTokens + tokens.cacheWriteTokens + tokens.cacheReadTokens }, recorded };
  }

  /** The agent file's rules (`permissions:` and rules written in `tools:`), the workflow's, the settings', and those allowed for this run. */
  private rules(ctx: TaskContext, def: AgentDefinition): PermissionRules {
    const setting = typeof this.options.permissions === 'function' ? this.options.permissions() : this.options.permissions;
    return mergeRules(def.permissions, { allow: (def.tools ?? []).filter((t) => t.includes('(')) }, ctx.run.options?.permissions, setting, {
      allow: ctx.run.allowed ?? [],
    });
  }

  private defaultBudget(): Budget | undefined {
    return typeof this.options.budget === 'function' ? this.options.budget() : this.options.budget;
  }
}

function toolUses(message: ConversationMessage): ToolUseBlockParam[] {
  if (typeof message.content === 'string') return [];
  return message.content.filter((b): b is ToolUseBlockParam => b.type === 'tool_use');
}

function textOf(message: ConversationMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .filter((b): b is TextBlockParam => b.type === 'text')
    .map((b) => b.text)
    .join('');
}

/**
 * A copy of the conversation with a cache breakpoint on its last block, so each turn
 * reads the previous turns from the cache. The stored conversation stays clean.
 */
function withConversationBreakpoint(messages: ConversationMessage[]): ConversationMessage[] {
  const copy = messages.slice();
  const last = copy.at(-1)!;
  const blocks: ContentBlockParam[] = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content.slice();
  const tail = blocks.at(-1);
  if (tail && (tail.type === 'text' || tail.type === 'tool_result')) {
    blocks[blocks.length - 1] = { ...tail, cache_control: { type: 'ephemeral' } };
  }
  copy[copy.length - 1] = { ...last, content: blocks };
  return copy;
}
