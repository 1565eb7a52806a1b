import { z } from 'zod';
import { RUN_STATES } from '../../core/model/task-state.ts';

/**
 * A run id the caller chose (a foreground `orchestr8 run` follows its run through another owner by it):
 * ids are short hex, like the ones the engine makes, so they stay safe in URLs and prefixes.
 */
const runId = z
  .string()
  .regex(/^[0-9a-f]{8,32}$/, 'a run id is 8 to 32 lowercase hex digits')
  .optional();

const common = {
  id: runId,
  name: z.string().min(1).max(200).optional(),
  timeoutMs: z.int().positive().optional(),
  retries: z.int().min(0).max(100).optional(),
  cwd: z.string().min(1).optional(),
};

const budgetSchema = z.strictObject({ usd: z.number().positive().optional(), tokens: z.int().positive().optional() });

/**
 * POST /v1/tasks: one agent prompt or one shell command, launched on its own (TaskAsync). Only the
 * types are checked here; which fields go together is core/engine/launch-input.ts's to say, with
 * the same messages the CLI and the tools give.
 */
export const launchTaskSchema = z.strictObject({
  ...common,
  agent: z.string().min(1).optional(),
  prompt: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  budget: budgetSchema.optional(),
  run: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

/** POST /v1/workflows: a workflow file (path) or inline YAML, with inputs. */
export const launchWorkflowSchema = z
  .strictObject({
    file: z.string().min(1).optional(),
    yaml: z.string().min(1).optional(),
    /** With `yaml`: the file the caller read it from, kept with the run and named in its issues (never read here). */
    source: z.string().min(1).max(4096).optional(),
    inputs: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
    id: runId,
  })
  .refine((b) => (b.file === undefined) !== (b.yaml === undefined), { message: 'give exactly one of "file" or "yaml"' })
  .refine((b) => b.source === undefined || b.yaml !== undefined, { message: '"source" names where "yaml" came from; it goes with "yaml" only' });

/** POST /v1/tasks/:id/signal: the payload becomes the wait task's result. */
export const signalSchema = z.strictObject({
  payload: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  /** Rejects the wait (the task fails, the payload is the reason) instead of completing it. */
  reject: z.boolean().optional(),
});

/** POST /v1/tasks/:id/answer: the answer to a `needs-input` task's request. */
export const answerSchema = z.strictObject({
  decision: z.enum(['allow', 'deny']),
  always: z.boolean().optional(),
  reason: z.string().max(4000).optional(),
  raise: budgetSchema.optional(),
});

/** POST /v1/runs/:id/pause */
export const pauseSchema = z.strictObject({ reason: z.string().max(1000).optional() });

export const markDeliveredSchema = z.strictObject({ ids: z.array(z.string().min(1)).max(1000) });

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  state: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',') : undefined))
    .pipe(z.array(z.enum(RUN_STATES)).optional()),
});

export const clearQuerySchema = z.object({ before: z.coerce.number().int().positive().optional() });

export const webhookQuerySchema = z.object({ state: z.enum(['pending', 'delivered', 'dead']).optional() });

/** `POST /v1/tasks/:id/continue`: Continue… on a finished agent task. */
export const continueSchema = z.strictObject({ prompt: z.string().min(1) });
