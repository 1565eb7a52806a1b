import { URI } from 'vscode-uri';
import { isTaskId } from '../../core/util/ids.ts';

/** The scheme of Orchestr8's read-only documents (results, logs, transcripts, run summaries). */
export const DOCUMENT_SCHEME = 'orchestr8';

/** Which document an `orchestr8:` URI names. */
export type DocumentRef =
  | { kind: 'result'; taskId: string }
  | { kind: 'log'; taskId: string }
  | { kind: 'transcript'; taskId: string }
  | { kind: 'run'; runId: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `orchestr8:/<kind>/<id>/<title>.md`. The last segment only gives the editor tab a readable name and
 * the `.md` that selects the markdown language; parsing ignores it.
 */
export function documentUri(ref: DocumentRef, title: string): URI {
  const id = ref.kind === 'run' ? ref.runId : ref.taskId;
  const name = title.replace(/[\\/:*?"<>|#%]+/g, '-').trim() || ref.kind;
  return URI.from({ scheme: DOCUMENT_SCHEME, path: `/${ref.kind}/${id}/${name}.md` });
}

export function parseDocumentUri(uri: URI | string): DocumentRef | undefined {
  const parsed = typeof uri === 'string' ? URI.parse(uri) : uri;
  if (parsed.scheme !== DOCUMENT_SCHEME) return undefined;
  const [, kind, id] = parsed.path.split('/');
  if (!id || !ID.test(id)) return undefined;
  if (kind === 'run') return { kind, runId: id };
  if ((kind === 'result' || kind === 'log' || kind === 'transcript') && isTaskId(id)) return { kind, taskId: id };
  return undefined;
}
