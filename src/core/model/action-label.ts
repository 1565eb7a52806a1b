import type { TaskAction } from './workflow.ts';

/**
 * What kind of task this is, in a few words: `agent coder`, `shell command`, `wait`, `no-op`.
 * The one short label for commit subjects, pull request tables and a single-task run's row.
 */
export function actionLabel(action: TaskAction): string {
  switch (action.kind) {
    case 'agent':
      return `agent ${action.agent}`;
    case 'run':
      return 'shell command';
    case 'wait':
      return 'wait';
    case 'noop':
      return 'no-op';
  }
}
