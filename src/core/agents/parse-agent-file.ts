import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { AgentDefinition } from './agent-definition.ts';
import { AgentFileError } from './agent-file-error.ts';
import { AGENT_RUNTIMES } from './agent-runtime.ts';

const frontmatterSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .regex(/^[A-Za-z0-9][\w.-]*$/, 'letters, digits, "-", "_" or "." only'),
  description: z.string().trim().min(1),
  model: z.string().trim().min(1).optional(),
  // Claude Code writes `tools: Read, Grep, Glob`; some files use a YAML list.
  tools: z.union([z.string(), z.array(z.string())]).optional(),
  max_turns: z.number().int().positive().max(1000).optional(),
  temperature: z.number().min(0).max(1).optional(),
  runtime: z.enum(AGENT_RUNTIMES).optional(),
  permissions: z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() }).optional(),
});

/**
 * Parses an agent file: `---` YAML frontmatter `---` then the system prompt. Unknown
 * frontmatter keys (Claude Code's `color`, Orchestr8's `category`, …) are ignored so
 * existing files work unchanged. Errors carry the file and the 1-based line.
 */
export function parseAgentFile(text: string, file: string): AgentDefinition {
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = normalised.split('\n');
  if (lines[0]?.trim() !== '---') throw new AgentFileError(file, 1, 'expected YAML frontmatter starting with "---"');
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end < 0) throw new AgentFileError(file, lines.length, 'frontmatter is not closed with "---"');

  const yamlText = lines.slice(1, end).join('\n');
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: false });
  // Frontmatter starts on file line 2, so YAML line n is file line n + 1.
  const fileLine = (offset: number | undefined) => (offset === undefined ? 2 : counter.linePos(offset).line + 1);
  const firstError = doc.errors[0];
  if (firstError) throw new AgentFileError(file, fileLine(firstError.pos[0]), `invalid YAML: ${firstError.message.split('\n')[0]}`);
  if (!isMap(doc.contents)) throw new AgentFileError(file, 2, 'frontmatter must be a YAML mapping');

  const parsed = frontmatterSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0];
    const pair = typeof key === 'string' ? doc.contents.items.find((p) => (p.key as { value?: unknown } | null)?.value === key) : undefined;
    const range = (pair?.value as { range?: [number, number, number] } | null)?.range ?? (pair?.key as { range?: [number, number, number] } | null)?.range;
    const where = key === undefined ? '' : `"${String(key)}": `;
    throw new AgentFileError(file, pair ? fileLine(range?.[0]) : 2, `${where}${issue.message}`);
  }
  const fm = parsed.data;
  const model = fm.model && fm.model !== 'inherit' ? fm.model : undefined;
  const tools = fm.tools === undefined ? undefined : (Array.isArray(fm.tools) ? fm.tools : fm.tools.split(',')).map((t) => t.trim()).filter(Boolean);
  const systemPrompt = lines
    .slice(end + 1)
    .join('\n')
    .trim();
  if (!systemPrompt) throw new AgentFileError(file, end + 2, 'the body (system prompt) is empty');
  return {
    name: fm.name,
    description: fm.description,
    ...(model ? { model } : {}),
    ...(tools ? { tools } : {}),
    ...(fm.max_turns ? { maxTurns: fm.max_turns } : {}),
    ...(fm.temperature !== undefined ? { temperature: fm.temperature } : {}),
    ...(fm.runtime ? { runtime: fm.runtime } : {}),
    ...(fm.permissions ? { permissions: fm.permissions } : {}),
    systemPrompt,
    file,
  };
}
