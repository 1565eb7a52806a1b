import type * as z from 'zod';
import { allowedKeys } from './workflow-schema.ts';
import type { PathSegment } from './yaml-locator.ts';

/** A schema problem at a data path; `target: 'key'` points at the map key rather than its value. */
export interface PathIssue {
  path: PathSegment[];
  target: 'key' | 'value';
  message: string;
}

/** Turns zod issues into readable messages at data paths, prefixed with `base`. */
export function pathIssues(issues: readonly z.core.$ZodIssue[], base: readonly PathSegment[] = []): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as PathSegment[])];
    switch (issue.code) {
      case 'invalid_union': {
        // A branch whose problems all lie deeper matched the shape: report those.
        const deeper = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
        if (deeper) out.push(...pathIssues(deeper, path));
        else out.push({ path, target: 'value', message: `${issue.message}, got ${describe(issue.input)}` });
        break;
      }
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: [...path, key], target: 'key', message: unknownKeyMessage(key, allowedKeys(path)) });
        break;
      case 'invalid_key': {
        const inner = issue.issues[0]?.message ?? issue.message;
        out.push({ path, target: 'key', message: `invalid key ${JSON.stringify(issue.input)}: ${inner}` });
        break;
      }
      case 'invalid_type':
        // A missing key is reported at the map that lacks it.
        if (issue.input === undefined) {
          const parent = path.slice(0, -1);
          const where = parent.length > 0 ? ` in ${dotted(parent)}` : '';
          out.push({ path: parent, target: 'key', message: `missing required key '${path[path.length - 1]}'${where}` });
        } else out.push({ path, target: 'value', message: `expected ${article(issue.expected)}, got ${describe(issue.input)}` });
        break;
      case 'too_small':
        out.push({ path, target: 'value', message: tooSmall(issue) });
        break;
      case 'invalid_value':
        out.push({ path, target: 'value', message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(issue.input)}` });
        break;
      default:
        out.push({ path, target: 'value', message: issue.message });
    }
  }
  return out;
}

/** `tasks.lint.needs[1]` */
export function dotted(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = didYouMean(key, allowed);
  return `unknown key '${key}'${guess ? `; did you mean '${guess}'?` : ''}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
}

/** The closest candidate within a small edit distance, if any. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  // Short words are too alike to guess from ('b' is one edit from every one-letter id).
  let bestDist = word.length <= 2 ? 0 : word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= bestDist) {
      bestDist = d - 1;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let prev2 = prev;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swap of two neighbours (biuld/build) counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j]!, prev2[j - 2]! + 1);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

function tooSmall(issue: z.core.$ZodIssueTooSmall): string {
  const min = Number(issue.minimum);
  if (issue.origin === 'string' && min === 1) return 'must not be empty';
  return `must be ${issue.inclusive ? '>=' : '>'} ${min}, got ${describe(issue.input)}`;
}

function article(expected: string): string {
  const word = expected === 'int' ? 'integer' : expected === 'object' ? 'map' : expected === 'array' ? 'list' : expected;
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

/** A short description of a parsed YAML value, for "got ..." in messages. */
export function describe(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}
