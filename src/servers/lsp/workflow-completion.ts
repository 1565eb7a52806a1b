import { CompletionItemKind, type CompletionItem, type Position, type Range } from 'vscode-languageserver';
import { analyzeWorkflow } from '../../core/workflow/parse-workflow.ts';
import { allowedKeys } from '../../core/workflow/workflow-schema.ts';
import type { AgentSummary } from './agent-directory.ts';
import { childKeys, enclosingKeys, keyLine, siblingKeys, topLevelKey } from './yaml-lines.ts';

/** What a workflow file declares, as far as can be told while it is being edited. */
export interface DeclaredNames {
  taskIds: string[];
  inputNames: string[];
}

/** Task ids and input names: from the parser's outline when the YAML parses, and from indentation otherwise. */
export function declaredNames(text: string, file: string, lines: readonly string[] = text.split(/\r?\n/)): DeclaredNames {
  const { outline } = analyzeWorkflow(text, file);
  const under = (key: string) => {
    const line = topLevelKey(lines, key);
    return line === undefined ? [] : childKeys(lines, line).map((k) => k.key);
  };
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    taskIds: union(
      outline.tasks.map((t) => t.id),
      under('tasks'),
    ),
    inputNames: union(
      outline.inputs.map((i) => i.name),
      under('inputs'),
    ),
  };
}

/**
 * Completions at `position`: keys allowed where the cursor is (those not written yet),
 * task ids in `needs`, agent names after `agent:`, and `${inputs.…}` / `${tasks.….result}`
 * inside a reference.
 */
export function workflowCompletions(text: string, file: string, position: Position, agents: readonly AgentSummary[]): CompletionItem[] {
  const lines = text.split(/\r?\n/);
  const line = lines[position.line] ?? '';
  const before = line.slice(0, position.character);
  const indent = /^\s*/.exec(line)![0].length;
  const path = enclosingKeys(lines, position.line, indent);
  const ownTask = path?.[0] === 'tasks' ? path[1] : undefined;

  const reference = openReference(before);
  if (reference !== undefined) {
    const names = declaredNames(text, file, lines);
    const range = span(position, reference.length);
    const close = line[position.character] === '}' ? '' : '}';
    return [
      ...names.inputNames.map((name) => item(`inputs.${name}`, CompletionItemKind.Variable, range, `inputs.${name}${close}`, 'workflow input')),
      ...names.taskIds
        .filter((id) => id !== ownTask)
        .map((id) => item(`tasks.${id}.result`, CompletionItemKind.Reference, range, `tasks.${id}.result${close}`, `output of task ${id}`)),
    ];
  }

  const value = /^\s*(?:- +)?([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(before);
  if (value) {
    const [, key, rest] = value as unknown as [string, string, string];
    if (key === 'agent' && ownTask !== undefined) {
      const word = /[\w.-]*$/.exec(rest)![0];
      return agents.map((a) => item(a.name, CompletionItemKind.Class, span(position, word.length), a.name, a.description));
    }
    if (key === 'needs' && ownTask !== undefined) return needItems(text, file, lines, position, rest, ownTask);
    return [];
  }

  // A list item under `needs:`.
  const listItem = /^\s*- +([\w-]*)$/.exec(before);
  if (listItem && path && path[0] === 'tasks' && path.length === 3 && path[2] === 'needs') {
    return needItems(text, file, lines, position, listItem[1]!, path[1]!);
  }

  // A key being typed.
  const key = /^(\s*)([A-Za-z_][\w-]*)?$/.exec(before);
  if (!key || !path) return [];
  if ((path.length === 1 && (path[0] === 'tasks' || path[0] === 'inputs')) || (path[0] === 'inputs' && path.length > 2)) return [];
  const written = new Set(siblingKeys(lines, position.line, indent));
  const typed = key[2] ?? '';
  if (keyLine(lines, position.line)) return []; // the key is written already; the cursor is in it
  return allowedKeys(path)
    .filter((k) => !written.has(k))
    .map((k) => item(k, CompletionItemKind.Property, span(position, typed.length), `${k}: `));
}

/** Task ids a task may need: all but itself and those already listed. */
function needItems(text: string, file: string, lines: readonly string[], position: Position, rest: string, ownTask: string): CompletionItem[] {
  const listed = new Set(rest.split(/[\s,[\]]+/).filter(Boolean));
  const word = /[\w-]*$/.exec(rest)![0];
  listed.delete(word);
  const lineText = lines[position.line] ?? '';
  // Items already under a block `needs:` list count as listed too.
  let parent = position.line - 1;
  while (parent >= 0 && /^\s*- /.test(lines[parent]!)) parent--;
  if (parent >= 0 && /^\s*needs\s*:\s*$/.test(lines[parent]!) && !/^\s*needs\s*:/.test(lineText)) {
    for (let j = parent + 1; j < lines.length; j++) {
      const m = /^\s*- +([\w-]+)\s*$/.exec(lines[j]!);
      if (!m) break;
      if (j !== position.line) listed.add(m[1]!);
    }
  }
  return declaredNames(text, file, lines)
    .taskIds.filter((id) => id !== ownTask && !listed.has(id))
    .map((id) => item(id, CompletionItemKind.Reference, span(position, word.length), id, 'task'));
}

/** The text typed after an unclosed `${` before the cursor (not the `$${` escape), or undefined. */
function openReference(before: string): string | undefined {
  const at = before.lastIndexOf('${');
  if (at < 0 || before[at - 1] === '$') return undefined;
  const typed = before.slice(at + 2);
  return typed.includes('}') ? undefined : typed;
}

function span(position: Position, back: number): Range {
  return { start: { line: position.line, character: position.character - back }, end: position };
}

function item(label: string, kind: CompletionItemKind, range: Range, newText: string, detail?: string): CompletionItem {
  return { label, kind, textEdit: { range, newText }, ...(detail ? { detail } : {}) };
}
