import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { WorkflowIssue } from './workflow-error.ts';

/** A 1-based span in a file; `end` is exclusive. */
export interface SourceRange {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export type PathSegment = string | number;

/** Finds the YAML node behind a data path, so every issue can name file:line:col. */
export class YamlLocator {
  constructor(
    private readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    readonly file: string,
  ) {}

  /** Pairs of each map by key, built on first use: a linear search per lookup made big files quadratic. */
  private readonly pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  private pair(map: YAMLMap, key: PathSegment): Pair | undefined {
    let index = this.pairIndex.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items) {
        const k = isPair(p) ? keyText(p.key) : undefined;
        if (k !== undefined && !index.has(k)) index.set(k, p);
      }
      this.pairIndex.set(map, index);
    }
    return index.get(String(key));
  }

  /** Range of a character span, in offsets of the source text. */
  span(start: number, end: number): SourceRange {
    const a = this.lines.linePos(start);
    const b = this.lines.linePos(Math.max(end, start + 1));
    return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  }

  /** The value node at `path`, following aliases; undefined if it is not in the file. */
  node(path: readonly PathSegment[]): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        node = this.pair(node, seg)?.value ?? undefined;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        return undefined;
      }
    }
    return (node ?? undefined) as Node | undefined;
  }

  /** The key node of the last segment of `path` (a map key). */
  keyNode(path: readonly PathSegment[]): Node | undefined {
    const last = path[path.length - 1];
    let parent: unknown = this.node(path.slice(0, -1));
    if (isAlias(parent)) parent = parent.resolve(this.doc);
    if (last === undefined || !isMap(parent)) return undefined;
    return (this.pair(parent, last)?.key ?? undefined) as Node | undefined;
  }

  /**
   * Where `path` is: its key or its value. A path that is missing from the file
   * (e.g. a required key not written) falls back to its nearest written ancestor,
   * pointing at that ancestor's key when it has one.
   */
  range(path: readonly PathSegment[], target: 'key' | 'value' = 'value'): SourceRange {
    for (let p = path; ; p = p.slice(0, -1)) {
      const preferKey = target === 'key' || p.length < path.length;
      const node = (preferKey ? this.keyNode(p) : undefined) ?? this.node(p);
      if (node?.range) {
        // A block map or seq spans many lines; its first line is enough to point at.
        if (isMap(node) || isSeq(node)) {
          const start = this.lines.linePos(node.range[0]);
          const nextLine = this.lines.lineStarts[start.line] ?? node.range[1];
          return this.span(node.range[0], Math.min(node.range[1], Math.max(nextLine - 1, node.range[0] + 1)));
        }
        return this.span(node.range[0], node.range[1]);
      }
      if (p.length === 0) return { line: 1, col: 1, endLine: 1, endCol: 1 };
    }
  }

  /**
   * Range of `raw`, found at `offset` of the string value at `path`. Exact where
   * the value appears verbatim in the source (plain, or quoted without escapes);
   * otherwise the `nth` occurrence of `raw` in the source, or the whole scalar.
   */
  rangeInScalar(path: readonly PathSegment[], value: string, raw: string, offset: number, nth: number): SourceRange {
    const node = this.node(path);
    if (isScalar(node) && node.range) {
      const source = this.text.slice(node.range[0], node.range[1]);
      const verbatim = source.indexOf(value);
      if (verbatim >= 0) {
        const start = node.range[0] + verbatim + offset;
        return this.span(start, start + raw.length);
      }
      let at = -1;
      for (let i = 0; i <= nth; i++) {
        at = source.indexOf(raw, at + 1);
        if (at < 0) break;
      }
      if (at >= 0) return this.span(node.range[0] + at, node.range[0] + at + raw.length);
    }
    return this.range(path);
  }

  /** One line per issue, whatever the message quotes from the file: `file:line:col: message` stays one line in a terminal. */
  issue(range: SourceRange, message: string): WorkflowIssue {
    return { message: message.replace(/\s*\r?\n\s*/g, ' ⏎ '), file: this.file, ...range };
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}
