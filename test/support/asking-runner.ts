import { NeedsInput, type TaskContext, type TaskOutput, type TaskRunner } from '../../src/core/runners/task-runner.ts';

/** Parks on a permission request until an answer to it is on the task; then says what the answer was. */
export class AskingRunner implements TaskRunner {
  readonly kind = 'agent';
  async execute(ctx: TaskContext): Promise<TaskOutput> {
    const answer = ctx.task.answers?.find((a) => a.requestId === 'toolu_crash');
    if (!answer)
      throw new NeedsInput({
        kind: 'permission',
        id: 'toolu_crash',
        tool: 'Bash',
        call: 'Bash(make deploy)',
        rule: 'Bash(make deploy:*)',
        askedAt: Date.now(),
      });
    return { output: `answered: ${answer.decision}` };
  }
}
