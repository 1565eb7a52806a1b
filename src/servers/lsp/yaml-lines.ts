/**
 * Where the cursor is in a block-style YAML file, read from indentation alone. The
 * file being edited is usually not valid YAML at the moment a completion is asked
 * for (`needs: [` half typed), so a parser cannot be relied on for the context.
 */

const KEY_LINE = /^(\s*)(?:- +)?([A-Za-z_][\w.-]*|"[^"]*"|'[^']*')\s*:(?:\s|$)/;

export interface KeyLine {
  line: number;
  indent: number;
  key: string;
}

/** The key a line starts with (`  lint:` → lint), with its indentation. */
export function keyLine(lines: readonly string[], line: number): KeyLine | undefined {
  const m = KEY_LINE.exec(lines[line] ?? '');
  if (!m) return undefined;
  return { line, indent: m[1]!.length, key: unquote(m[2]!) };
}

function unquote(key: string): string {
  return /^["'].*["']$/.test(key) ? key.slice(1, -1) : key;
}

function indentOf(text: string): number {
  return /^\s*/.exec(text)![0].length;
}

function isBlank(text: string): boolean {
  return /^\s*(#.*)?$/.test(text);
}

/**
 * Keys of the maps enclosing a position at `indent` on `line`, outermost first:
 * `['tasks', 'review']` for a key being typed inside task `review`. Undefined when an
 * enclosing line is not a key (inside a list or a block scalar), where no key applies.
 */
export function enclosingKeys(lines: readonly string[], line: number, indent: number): string[] | undefined {
  const path: string[] = [];
  let limit = indent;
  for (let j = line - 1; j >= 0 && limit > 0; j--) {
    const text = lines[j]!;
    if (isBlank(text)) continue;
    const n = indentOf(text);
    if (n >= limit) continue;
    const key = keyLine(lines, j);
    if (!key) return undefined;
    path.unshift(key.key);
    limit = n;
  }
  return path;
}

/** Keys written directly under the key on `parent` (block style), in order. */
export function childKeys(lines: readonly string[], parent: number): KeyLine[] {
  const parentIndent = indentOf(lines[parent] ?? '');
  const keys: KeyLine[] = [];
  let childIndent: number | undefined;
  for (let j = parent + 1; j < lines.length; j++) {
    const text = lines[j]!;
    if (isBlank(text)) continue;
    const n = indentOf(text);
    if (n <= parentIndent) break;
    childIndent ??= n;
    if (n !== childIndent) continue;
    const key = keyLine(lines, j);
    if (key) keys.push(key);
  }
  return keys;
}

/** The line of a top-level key (`tasks:`), if written. */
export function topLevelKey(lines: readonly string[], key: string): number | undefined {
  for (let j = 0; j < lines.length; j++) {
    const k = keyLine(lines, j);
    if (k && k.indent === 0 && k.key === key) return j;
  }
  return undefined;
}

/**
 * Sibling keys of the map a key at (`line`, `indent`) belongs to: the lines at that
 * indentation up and down to where the map ends. Used to leave written keys out of completions.
 */
export function siblingKeys(lines: readonly string[], line: number, indent: number): string[] {
  const keys: string[] = [];
  for (const step of [-1, 1]) {
    for (let j = line + step; j >= 0 && j < lines.length; j += step) {
      const text = lines[j]!;
      if (isBlank(text)) continue;
      const n = indentOf(text);
      if (n < indent) break;
      if (n > indent) continue;
      const key = keyLine(lines, j);
      if (key) keys.push(key.key);
    }
  }
  return keys;
}
