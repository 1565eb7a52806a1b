import { runIdOf } from '../util/ids.ts';

/**
 * Links that open a run or a task in the editor's Orchestr8 view: `vscode://orchestr8.orchestr8/run/<runId>`
 * and `…/task/<taskId>`. The extension's URI handler opens them; webhooks, pull request bodies and
 * `orchestr8 status` carry them so a notification elsewhere leads back to the run. A run lives in one
 * workspace's state, so the link works in a window on that workspace.
 */

/** `<publisher>.<name>` from package.json: the authority VS Code routes to this extension's URI handler. */
export const EXTENSION_ID = 'orchestr8.orchestr8';

/** What a link opens: a run, or one of its tasks. */
export interface DeepLinkTarget {
  runId: string;
  taskId?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The link to a run or task. `scheme` is the editor's own (`vscode`, `vscode-insiders`, `code-oss`);
 * what the engine writes for the world (it cannot know which editor reads it) uses `vscode`.
 */
export function deepLink(target: DeepLinkTarget, scheme = 'vscode'): string {
  return target.taskId ? `${scheme}://${EXTENSION_ID}/task/${target.taskId}` : `${scheme}://${EXTENSION_ID}/run/${target.runId}`;
}

/**
 * The run or task a link names, or undefined. Any scheme is accepted (a `vscode://` link pasted into
 * an Insiders window still means the same run), as is the path alone (`/run/<id>`), as a URI handler sees it.
 */
export function parseDeepLink(link: string): DeepLinkTarget | undefined {
  const text = link.trim();
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/([^/?#]+))?(\/[^?#]*)/i.exec(text);
  if (!match) return undefined;
  if (match[1] !== undefined && match[1].toLowerCase() !== EXTENSION_ID) return undefined;
  const [, kind, id, ...rest] = match[2]!.split('/');
  if (rest.some(Boolean) || !id) return undefined;
  const decoded = decodeURIComponent(id);
  if (kind === 'run' && ID.test(decoded)) return { runId: decoded };
  if (kind === 'task' && TASK_ID.test(decoded)) return { runId: runIdOf(decoded), taskId: decoded };
  return undefined;
}
