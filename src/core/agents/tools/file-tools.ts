import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { capText, defineTool, type AgentTool } from './agent-tool.ts';
import { globToRegExp } from './glob-pattern.ts';
import { ToolRefusal, type WorkspaceGuard } from './workspace-guard.ts';

const MAX_READ_CHARS = 200_000;
const MAX_LIST = 2_000;
const MAX_MATCHES = 500;
const MAX_SEARCH_FILE_BYTES = 2_000_000;
/** Never walked: tool caches and VCS internals, huge and not the agent's business. */
const SKIP_DIRS = new Set(['.git', 'node_modules']);

export const readFileTool = defineTool({
  name: 'read_file',
  readOnly: true,
  description: 'Read a text file in the task folder. Optional 1-based `offset` line and `limit` lines for big files.',
  schema: z.object({
    path: z.string().describe('Path relative to the task folder'),
    offset: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).optional(),
  }),
  async run({ path, offset, limit }, { guard }) {
    const file = await guard.resolve(path);
    const text = await readFile(file, 'utf8');
    if (offset === undefined && limit === undefined) return capText(text, MAX_READ_CHARS);
    const lines = text.split('\n');
    const start = (offset ?? 1) - 1;
    return capText(lines.slice(start, limit ? start + limit : undefined).join('\n'), MAX_READ_CHARS);
  },
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description: 'Create or overwrite a file in the task folder with `content` (parent folders are created).',
  schema: z.object({ path: z.string(), content: z.string() }),
  async run({ path, content }, { guard }) {
    const file = await guard.resolve(path);
    await mkdir(dirname(file), { recursive: true });
    // The parent may have been created just now; check once more that nothing raced a symlink in.
    await guard.resolve(path);
    await writeFile(file, content, 'utf8');
    return `wrote ${guard.display(file)} (${Buffer.byteLength(content)} bytes)`;
  },
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace the exact text `old_string` with `new_string` in a file. `old_string` must occur exactly once (include surrounding lines to make it unique).',
  schema: z.object({ path: z.string(), old_string: z.string().min(1), new_string: z.string() }),
  async run({ path, old_string, new_string }, { guard }) {
    const file = await guard.resolve(path);
    const text = await readFile(file, 'utf8');
    const first = text.indexOf(old_string);
    if (first < 0) throw new Error(`old_string not found in ${guard.display(file)}`);
    if (text.indexOf(old_string, first + 1) >= 0) throw new Error(`old_string occurs more than once in ${guard.display(file)}; add context to make it unique`);
    await writeFile(file, text.slice(0, first) + new_string + text.slice(first + old_string.length), 'utf8');
    return `edited ${guard.display(file)}`;
  },
});

export const listFilesTool = defineTool({
  name: 'list_files',
  readOnly: true,
  description: 'List files in the task folder matching a glob (`**/*.ts`, `src/*.{js,ts}`); .git and node_modules are skipped.',
  schema: z.object({
    pattern: z.string().default('**/*'),
    path: z.string().optional().describe('Folder to list under, relative to the task folder'),
  }),
  async run({ pattern, path }, { guard }) {
    const base = await guard.resolve(path ?? '.');
    const re = globToRegExp(pattern);
    const found: string[] = [];
    for await (const file of walk(base, guard)) {
      if (re.test(relative(base, file).split('\\').join('/'))) found.push(guard.display(file));
      if (found.length >= MAX_LIST) break;
    }
    if (!found.length) return 'no files match';
    return found.join('\n') + (found.length >= MAX_LIST ? `\n… stopped at ${MAX_LIST} files` : '');
  },
});

export const searchTool = defineTool({
  name: 'search',
  readOnly: true,
  description:
    'Search file contents with a JavaScript regular expression. Returns `path:line: text`. Optional `glob` filters files, `path` narrows the folder.',
  schema: z.object({
    pattern: z.string().min(1),
    path: z.string().optional(),
    glob: z.string().optional(),
    ignore_case: z.boolean().optional(),
  }),
  async run({ pattern, path, glob, ignore_case }, { guard, ctx }) {
    let re: RegExp;
    try {
      re = new RegExp(pattern, ignore_case ? 'i' : '');
    } catch (error) {
      throw new Error(`invalid regular expression: ${(error as Error).message}`);
    }
    const base = await guard.resolve(path ?? '.');
    const filter = glob ? globToRegExp(glob) : undefined;
    const hits: string[] = [];
    const files = (await stat(base)).isFile() ? [base] : walk(base, guard);
    for await (const file of files) {
      if (ctx.signal.aborted) break;
      if (filter && !filter.test(relative(base, file).split('\\').join('/'))) continue;
      const info = await stat(file).catch(() => undefined);
      if (!info || info.size > MAX_SEARCH_FILE_BYTES) continue;
      const buffer = await readFile(file);
      if (buffer.includes(0)) continue; // binary
      const lines = buffer.toString('utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        if (re.test(line)) hits.push(`${guard.display(file)}:${i + 1}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
        if (hits.length >= MAX_MATCHES) break;
      }
      if (hits.length >= MAX_MATCHES) break;
    }
    if (!hits.length) return 'no matches';
    return hits.join('\n') + (hits.length >= MAX_MATCHES ? `\n… stopped at ${MAX_MATCHES} matches` : '');
  },
});

/** Files below `dir`, depth first, not following symlinked folders (they could lead out). */
async function* walk(dir: string, guard: WorkspaceGuard): AsyncGenerator<string> {
  if (!guard.contains(dir)) throw new ToolRefusal('refused: outside the task folder');
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* walk(full, guard);
    } else if (e.isFile()) yield full;
  }
}

export const FILE_TOOLS: readonly AgentTool[] = [readFileTool, writeFileTool, editFileTool, listFilesTool, searchTool];
