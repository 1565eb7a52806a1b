import type { RunRecord, TaskRecord } from '../../core/model/records.ts';
import { shortRunId } from './format.ts';
import type { NotificationLevel, ToastView } from './notification-policy.ts';
import { oneLine } from '../../core/util/text-format.ts';
import { COMMAND_IDS } from '../commands/command-ids.ts';

/** How a `wait` task is answered from the editor. */
export type WaitAnswer = 'approve' | 'reject';

/**
 * The toast announcing that a run waits for the user, with the question (references filled in)
 * and Approve / Reject. Shown at every level but `none`: the run is stuck until someone answers.
 */
export function waitToast(run: RunRecord, task: TaskRecord, question: string, level: NotificationLevel): ToastView | undefined {
  if (level === 'none') return undefined;
  const target = { runId: run.id, taskId: task.id };
  return {
    severity: 'warning',
    message: `${run.name} (run ${shortRunId(run.id)}) waits for you at ${task.name || task.key}: ${oneLine(question, 200)}`,
    actions: [
      { title: 'Approve…', command: COMMAND_IDS.approveWait, args: [target] },
      { title: 'Reject…', command: COMMAND_IDS.rejectWait, args: [target] },
    ],
  };
}

/** What the input box asks before a wait is answered. Escape in it answers nothing. */
export function answerPrompt(answer: WaitAnswer, task: TaskRecord, question: string): { title: string; prompt: string; placeHolder: string } {
  const name = task.name || task.key;
  return answer === 'approve'
    ? {
        title: `Approve ${name}: ${oneLine(question, 100)}`,
        prompt: `Optional payload: it becomes ${name}'s result (\${tasks.${task.key}.result}). Leave empty to just approve; Escape cancels.`,
        placeHolder: 'payload (optional)',
      }
    : {
        title: `Reject ${name}: ${oneLine(question, 100)}`,
        prompt: `Optional reason: ${name} fails with it and the tasks that need it are skipped. Escape cancels.`,
        placeHolder: 'reason (optional)',
      };
}

/** Said once the answer is durable. */
export function answeredMessage(answer: WaitAnswer, run: RunRecord, task: TaskRecord, payload: string): string {
  const what = answer === 'approve' ? 'approved' : 'rejected';
  const detail = payload ? (answer === 'approve' ? ` with “${oneLine(payload, 60)}”` : `: ${oneLine(payload, 60)}`) : '';
  return `Orchestr8: ${what} ${task.name || task.key} of ${run.name} (run ${shortRunId(run.id)})${detail}.`;
}
