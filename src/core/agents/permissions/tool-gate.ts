import type { ToolUseBlockParam } from '@anthropic-ai/sdk/resources/messages/messages';
import type { InputAnswer, InputRequest } from '../../model/input-request.ts';
import { checkShellCommand, suggestRule, type PermissionRules } from './permission-rules.ts';

/** What happens to one tool call: it runs, it is refused with `message` (as the tool's result), or the user is asked. */
export type GateVerdict = { kind: 'run' } | { kind: 'refuse'; message: string } | { kind: 'ask'; request: InputRequest };

/**
 * Decides each tool call of an agent before any of a turn's calls run. The tools the agent file
 * grants are available; of those, a shell command also needs an allow rule, else the user is
 * asked (the task parks) — unless the user already answered that very call.
 */
export class ToolGate {
  constructor(
    private readonly rules: PermissionRules,
    private readonly answers: readonly InputAnswer[],
  ) {}

  verdict(call: ToolUseBlockParam, now: number): GateVerdict {
    if (call.name !== 'run_command') return { kind: 'run' };
    const command = typeof (call.input as { command?: unknown } | null)?.command === 'string' ? (call.input as { command: string }).command : '';
    const answer = this.answers.find((a) => a.requestId === call.id);
    if (answer?.decision === 'allow') return { kind: 'run' };
    if (answer?.decision === 'deny') return { kind: 'refuse', message: `The user denied this command${answer.reason ? `: ${answer.reason}` : '.'}` };
    const verdict = checkShellCommand(command, this.rules);
    if (verdict.kind === 'allow') return { kind: 'run' };
    if (verdict.kind === 'deny') return { kind: 'refuse', message: `Denied by the permission rule ${verdict.rule}; do not run this command.` };
    return { kind: 'ask', request: { kind: 'permission', id: call.id, tool: 'Bash', call: `Bash(${command})`, rule: suggestRule(command), askedAt: now } };
  }
}
