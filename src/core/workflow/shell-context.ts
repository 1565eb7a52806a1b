import type { TemplatePart } from './interpolate.ts';

/**
 * The POSIX sh quoting context a `${...}` reference sits in within a `run` command:
 * - `plain`: unquoted shell text (`echo ${inputs.x}`)
 * - `double`: inside "..." or an unquoted heredoc body, where `$VAR` expands as one word
 * - `single`: inside '...'
 * - `literal`: inside a heredoc with a quoted delimiter (`<<'EOF'`), where nothing expands
 */
export type ShellContext = 'plain' | 'double' | 'single' | 'literal';

interface Frame {
  quote: 'plain' | 'double';
  /** Open parentheses in a `$(...)` frame; the frame ends when they close. */
  depth: number;
}

interface Heredoc {
  delimiter: string;
  stripTabs: boolean;
  quoted: boolean;
}

/**
 * The context of each reference of a parsed `run` template, in order. Understands
 * '...', "...", backslash escapes, `$(...)` (also nested in double quotes),
 * `#` comments and heredocs: enough for the commands people write in YAML. It is
 * not a full shell parser; where it guesses wrong a value can at worst be
 * word-split or printed as `$O8_...`, never run as code, because the shell does
 * not re-parse what a variable expands to.
 */
export function shellContexts(parts: readonly TemplatePart[]): ShellContext[] {
  const literalText = parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
  // A private-use character absent from the command stands for each reference.
  let code = 0xe000;
  while (literalText.includes(String.fromCharCode(code))) code++;
  const mark = String.fromCharCode(code);
  const s = parts.map((p) => (p.kind === 'text' ? p.text : mark)).join('');

  const contexts: ShellContext[] = [];
  const stack: Frame[] = [{ quote: 'plain', depth: 0 }];
  let single = false;
  let pending: Heredoc[] = [];

  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const top = stack[stack.length - 1]!;
    if (c === mark) {
      contexts.push(single ? 'single' : top.quote);
      continue;
    }
    if (single) {
      if (c === "'") single = false;
      continue;
    }
    if (c === '\\') {
      if (s[i + 1] !== mark) i++;
      continue;
    }
    if (c === '$' && s[i + 1] === '(') {
      stack.push({ quote: 'plain', depth: 1 });
      i++;
      continue;
    }
    if (top.quote === 'double') {
      if (c === '"') top.quote = 'plain';
      continue;
    }
    if (c === "'") single = true;
    else if (c === '"') top.quote = 'double';
    else if (c === '(') top.depth++;
    else if (c === ')' && stack.length > 1 && --top.depth === 0) stack.pop();
    else if (c === '#' && (i === 0 || /[\s;&|()]/.test(s[i - 1]!))) {
      const eol = s.indexOf('\n', i);
      for (const ch of s.slice(i, eol < 0 ? s.length : eol)) if (ch === mark) contexts.push('plain');
      i = (eol < 0 ? s.length : eol) - 1;
    } else if (c === '<' && s[i + 1] === '<' && s[i + 2] !== '<') {
      const m = /^<<(-?)[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([A-Za-z0-9_.-]+))/.exec(s.slice(i));
      if (m) {
        pending.push({ stripTabs: m[1] === '-', delimiter: m[2] ?? m[3] ?? m[4]!, quoted: m[2] !== undefined || m[3] !== undefined || m[0].includes('\\') });
        i += m[0].length - 1;
      }
    } else if (c === '\n' && pending.length > 0) {
      i = skipHeredocBodies(s, i + 1, pending, mark, contexts) - 1;
      pending = [];
    }
  }
  return contexts;
}

/** Walks heredoc bodies from `start`, recording references in them; returns where shell text resumes. */
function skipHeredocBodies(s: string, start: number, docs: readonly Heredoc[], mark: string, contexts: ShellContext[]): number {
  let at = start;
  for (const doc of docs) {
    while (at < s.length) {
      const eol = s.indexOf('\n', at);
      const end = eol < 0 ? s.length : eol;
      const line = s.slice(at, end);
      at = end + 1;
      if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) break;
      for (const ch of line) if (ch === mark) contexts.push(doc.quoted ? 'literal' : 'double');
    }
  }
  return Math.min(at, s.length);
}
