import { z } from 'zod';
import type { TaskContext } from '../../runners/task-runner.ts';
import type { ShellSandbox } from '../../sandbox/shell-sandbox.ts';
import type { WorkspaceGuard } from './workspace-guard.ts';

/** What a tool may use while it runs one call. */
export interface ToolEnv {
  readonly ctx: TaskContext;
  readonly guard: WorkspaceGuard;
  /** The model's id for this call; makes side effects (sub-task launches) idempotent on resume. */
  readonly toolUseId: string;
  /** Where `run_command` runs commands; absent or unavailable: unconfined, behind the text checks only. */
  readonly sandbox?: ShellSandbox;
}

/** A tool offered to the model: its schema (from zod) and what it does. Returns text for the model. */
export interface AgentTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  /**
   * Changes nothing (reads files or task states): the runner may run it before the turn that
   * asked for it is durable, and beside the turn's other read-only calls. A crash then only means
   * it runs again on resume, as if the crash had come a moment earlier.
   */
  readonly readOnly: boolean;
  run(input: unknown, env: ToolEnv): Promise<string>;
}

/** Builds a tool whose input is validated by `schema` before `run` sees it. */
export function defineTool<S extends z.ZodType>(spec: {
  name: string;
  description: string;
  schema: S;
  readOnly?: boolean;
  run(input: z.infer<S>, env: ToolEnv): Promise<string>;
}): AgentTool {
  const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(spec.schema) as Record<string, unknown>;
  return {
    name: spec.name,
    description: spec.description,
    inputSchema,
    readOnly: spec.readOnly ?? false,
    async run(input, env) {
      const parsed = spec.schema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`invalid input for ${spec.name}: ${issue.path.join('.') || 'input'}: ${issue.message}`);
      }
      return spec.run(parsed.data, env);
    },
  };
}

/** Keeps tool output within what is sensible to send back to the model. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.7);
  const tail = max - head;
  return `${text.slice(0, head)}\n… [${text.length - max} characters omitted] …\n${text.slice(-tail)}`;
}
