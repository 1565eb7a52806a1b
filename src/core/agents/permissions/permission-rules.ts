/**
 * Permission rules as Claude Code writes them: `Bash` (every command), `Bash(npm test)` (that
 * command exactly) and `Bash(npm test:*)` (that command with any arguments: a prefix ending at a
 * word boundary). They come from the agent file (`permissions:` or a rule in `tools:`), the
 * workflow's `permissions: { allow, deny }`, the settings, and "Allow for this run" answers.
 */
export interface PermissionRules {
  allow: readonly string[];
  deny: readonly string[];
}

export const NO_RULES: PermissionRules = { allow: [], deny: [] };

/** What a shell command gets: run it, refuse it (a deny rule), or ask the user. */
export type CommandVerdict = { kind: 'allow' } | { kind: 'deny'; rule: string } | { kind: 'ask' };

interface ParsedRule {
  tool: string;
  /** Undefined: every call of the tool. */
  command?: string;
  prefix: boolean;
}

/** `Bash(npm test:*)` → tool, command, prefix; undefined for text that is not a rule. */
export function parseRule(rule: string): ParsedRule | undefined {
  const match = /^\s*([A-Za-z_][\w-]*)\s*(?:\((.*)\))?\s*$/s.exec(rule);
  if (!match) return undefined;
  const tool = match[1]!;
  const inner = match[2]?.trim();
  if (inner === undefined || inner === '' || inner === '*') return { tool, prefix: false };
  if (inner.endsWith(':*')) return { tool, command: inner.slice(0, -2).trim(), prefix: true };
  return { tool, command: inner, prefix: false };
}

/** The rules merged in order (duplicates dropped). */
export function mergeRules(...sets: (Partial<PermissionRules> | undefined)[]): PermissionRules {
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const set of sets) {
    for (const rule of set?.allow ?? []) allow.add(rule);
    for (const rule of set?.deny ?? []) deny.add(rule);
  }
  return { allow: [...allow], deny: [...deny] };
}

/**
 * The verdict on a shell command. Like Claude Code, a compound command (`a && b`, `a | b`,
 * `a; b`) is allowed only when every part is, and denied when any part is; deny wins over allow.
 */
export function checkShellCommand(command: string, rules: PermissionRules): CommandVerdict {
  const parts = splitCommand(command);
  for (const rule of rules.deny) {
    const parsed = parseRule(rule);
    if (parsed?.tool === 'Bash' && parts.some((part) => matches(parsed, part))) return { kind: 'deny', rule };
  }
  const allowed = rules.allow.map(parseRule).filter((r): r is ParsedRule => r?.tool === 'Bash');
  return parts.length > 0 && parts.every((part) => allowed.some((r) => matches(r, part))) ? { kind: 'allow' } : { kind: 'ask' };
}

/** Commands that take a sub-command: "Allow for this run" covers `npm test:*`, not all of `npm`. */
const WITH_SUBCOMMAND = new Set([
  'npm',
  'npx',
  'pnpm',
  'yarn',
  'bun',
  'git',
  'cargo',
  'go',
  'make',
  'docker',
  'kubectl',
  'gh',
  'pip',
  'uv',
  'poetry',
  'dotnet',
  'mvn',
  'gradle',
]);

/** The rule "Allow for this run" adds for a command: its first word (and sub-command) with any arguments. */
export function suggestRule(command: string): string {
  const first = splitCommand(command)[0] ?? command.trim();
  const words = first.split(/\s+/).filter(Boolean);
  const head = words[0] ?? '';
  const sub = words[1];
  const prefix = WITH_SUBCOMMAND.has(head) && sub && /^[\w:.-]+$/.test(sub) && !sub.startsWith('-') ? `${head} ${sub}` : head;
  return `Bash(${prefix}:*)`;
}

function matches(rule: ParsedRule, command: string): boolean {
  if (rule.command === undefined) return true;
  if (!rule.prefix) return command === normalise(rule.command);
  const prefix = normalise(rule.command);
  return command === prefix || command.startsWith(`${prefix} `);
}

/** The simple commands of a command line, each trimmed with its spaces collapsed. */
function splitCommand(command: string): string[] {
  return command
    .split(/&&|\|\||[;|\n]/)
    .map(normalise)
    .filter(Boolean);
}

function normalise(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}
