import type { SDKMessage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { TaskContext } from '../../runners/task-runner.ts';
import type { TurnSpend } from '../budget-check.ts';
import { costUsd, type TurnTokens } from '../model-prices.ts';
import type { ClaudeCodeCheckpoint } from './claude-code-checkpoint.ts';

export type StreamEvent = Extract<SDKMessage, { type: 'stream_event' }>['event'];

/** The main-thread model request being streamed: its model and tokens so far. */
export interface StreamedRequest {
  model: string;
  tokens: TurnTokens;
}

/**
 * Follows the tokens of each main-thread model request as it streams, and checkpoints them
 * with the session when the request ends: the turn is paid for even if no result follows.
 */
export async function countTokens(ctx: TaskContext, event: StreamEvent, state: ClaudeCodeCheckpoint, request: StreamedRequest): Promise<void> {
  if (event.type === 'message_start') {
    const u = event.message.usage;
    // This request carries what the session was told (the user's answers): they need not be told again.
    delete state.notes;
    request.model = event.message.model;
    request.tokens = {
      inputTokens: u.input_tokens ?? 0,
      outputTokens: u.output_tokens ?? 0,
      cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
      cacheReadTokens: u.cache_read_input_tokens ?? 0,
    };
  } else if (event.type === 'message_delta') {
    request.tokens.outputTokens = event.usage.output_tokens ?? request.tokens.outputTokens;
  } else if (event.type === 'message_stop' && request.model) {
    const sum = ((state.unreported ??= {})[request.model] ??= noTokens());
    for (const key of Object.keys(sum) as Array<keyof TurnTokens>) sum[key] += request.tokens[key];
    state.lastTurn = spendOf(request.model, request.tokens);
    request.model = '';
    await ctx.saveCheckpoint(structuredClone(state));
  }
}

/** Usage of a run that crashed before its result: our count of its requests, priced with our table. */
export async function recordCrashedRun(ctx: TaskContext, state: ClaudeCodeCheckpoint): Promise<void> {
  const run = (state.crashedRuns ?? 0) + 1;
  const models = Object.entries(state.unreported ?? {});
  // Rows 1000+ never collide with the result's rows (1, 2, … per model), which a later result replaces.
  await Promise.all(models.map(([model, tokens], i) => ctx.recordUsage({ turn: 1000 * run + i, model, ...tokens, costUsd: costUsd(model, tokens) ?? 0 })));
  delete state.unreported;
  state.crashedRuns = run;
  await ctx.saveCheckpoint(structuredClone(state));
  if (models.length)
    ctx.log(
      `[usage of the interrupted run recorded from its stream: ${models.map(([m, t]) => `${m} ${t.inputTokens} in, ${t.outputTokens} out`).join('; ')}]\n`,
    );
}

/**
 * Usage whatever the outcome: the turns were paid for. The totals are the session's (a
 * resumed session's result carries the runs before it that ended), one row per model, so
 * that recording them again after a retry replaces rather than adds. The checkpoint, which
 * no longer counts this run's requests as unreported, goes out with them (one group commit),
 * with the answer when there is one.
 */
export async function recordResult(ctx: TaskContext, state: ClaudeCodeCheckpoint, result: SDKResultMessage, final = true): Promise<void> {
  const models = Object.entries(result.modelUsage ?? {});
  delete state.unreported;
  const answer = final && result.subtype === 'success' && !result.is_error ? result.result : undefined;
  if (answer !== undefined) delete state.followUp;
  await Promise.all([
    ...models.map(([model, u], i) =>
      ctx.recordUsage({
        turn: i + 1,
        model,
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        cacheWriteTokens: u.cacheCreationInputTokens,
        cacheReadTokens: u.cacheReadInputTokens,
        costUsd: u.costUSD,
      }),
    ),
    ctx.saveCheckpoint(answer !== undefined ? { ...state, result: answer } : { ...state }),
  ]);
  ctx.log(
    `\n[Claude Code: ${result.num_turns} turns, $${result.total_cost_usd.toFixed(4)}${models.length ? ` (${models.map(([m]) => m).join(', ')})` : ''}]\n`,
  );
}

function spendOf(model: string, t: TurnTokens): TurnSpend {
  return { usd: costUsd(model, t) ?? 0, tokens: t.inputTokens + t.outputTokens + t.cacheWriteTokens + t.cacheReadTokens };
}

/** The requests of the current run that no result has reported (and so no usage row counts yet). */
export function unreportedSpend(state: ClaudeCodeCheckpoint): TurnSpend {
  const sum: TurnSpend = { usd: 0, tokens: 0 };
  for (const [model, tokens] of Object.entries(state.unreported ?? {})) {
    const spend = spendOf(model, tokens);
    sum.usd += spend.usd;
    sum.tokens += spend.tokens;
  }
  return sum;
}

export function noTokens(): TurnTokens {
  return { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 };
}
