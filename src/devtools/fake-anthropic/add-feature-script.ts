import type { AgentScript } from './scripted-agents.ts';
import { lastToolResults } from './scripted-agents.ts';
import type { ScriptedResponse, ScriptedUsage } from './scripted-response.ts';
import { textReply, toolReply } from './scripted-response.ts';

/**
 * A scripted "Claude" for examples/add-feature.yaml with the agents in examples/agents/:
 * each agent reads, writes real files with the real tools, gates record verdicts, and
 * every turn can take `latencyMs` (time to first byte) like a real model would. Used by
 * `npm run demo:agents` and the agents bench.
 */
export interface AddFeatureScriptOptions {
  /** Delay before each scripted reply. */
  latencyMs?: number;
  /** Let the backend run its tests with run_command (a real `node --test`). */
  shell?: boolean;
  /** Verdict per gate task key; default: all pass but performance, which warns. */
  verdicts?: Partial<Record<GateKey, 'pass' | 'warn' | 'fail'>>;
}

export type GateKey = 'code-review' | 'tests' | 'security' | 'performance' | 'accessibility';

type Turn = (results: string[]) => ScriptedResponse;

const GATES: Array<{ key: GateKey; role: string; finding: string }> = [
  { key: 'code-review', role: 'code review', finding: 'Handler is small and readable; input is validated before use.' },
  { key: 'tests', role: 'test coverage', finding: 'Both the happy path and the missing-name error path are tested.' },
  { key: 'security', role: 'security', finding: 'The name is HTML-escaped before it reaches the page; no secrets in code.' },
  { key: 'performance', role: 'performance', finding: 'Greeting is rebuilt per request; fine at this size, cache it if it grows.' },
  { key: 'accessibility', role: 'accessibility', finding: 'Input has a label, the result is announced through a live region.' },
];

const API = `export function greeting(name) {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('name is required');
  return { message: \`Hello, \${escapeHtml(name.trim())}!\` };
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
`;

const API_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greeting } from './greeting.mjs';

test('greets by name', () => assert.equal(greeting('Ada').message, 'Hello, Ada!'));
test('escapes markup', () => assert.equal(greeting('<b>').message, 'Hello, &lt;b&gt;!'));
test('requires a name', () => assert.throws(() => greeting(' '), /name is required/));
`;

const UI = `<form id="greet">
  <label for="name">Your name</label>
  <input id="name" name="name" autocomplete="given-name" required>
  <button type="submit">Greet me</button>
</form>
<p id="greeting" role="status" aria-live="polite"></p>
`;

export function addFeatureScripts(options: AddFeatureScriptOptions = {}): Record<string, AgentScript> {
  const shell = options.shell ?? true;
  const verdicts: Record<GateKey, 'pass' | 'warn' | 'fail'> = {
    'code-review': 'pass',
    tests: 'pass',
    security: 'pass',
    performance: 'warn',
    accessibility: 'pass',
    ...options.verdicts,
  };

  const scripts: Record<string, Turn[]> = {
    'You are the feature analyst': [
      () =>
        toolReply(
          [
            { name: 'list_files', input: { pattern: '**/*' } },
            { name: 'read_file', input: { path: 'package.json' } },
          ],
          { text: 'Looking at the project first.' },
        ),
      () =>
        toolReply([
          {
            name: 'write_file',
            input: {
              path: 'docs/plan.md',
              content:
                '# Plan: personal greeting\n\n' +
                '## API\n`greeting(name)` in `src/api/greeting.mjs` returns `{ message }`; empty names are rejected.\n\n' +
                '## Frontend\nA labelled form in `src/ui/greeting.html` with a live region for the result.\n\n' +
                '## Risks\nUser input reaches HTML: escape it.\n',
            },
          },
        ]),
      () =>
        textReply(
          'Add greeting(name) in src/api/greeting.mjs (validated, HTML-escaped) and a labelled form in src/ui/greeting.html that announces the greeting.',
        ),
    ],
    'You are the backend engineer': [
      () => toolReply([{ name: 'read_file', input: { path: 'docs/plan.md' } }]),
      () =>
        toolReply([
          { name: 'write_file', input: { path: 'src/api/greeting.mjs', content: API } },
          { name: 'write_file', input: { path: 'src/api/greeting.test.mjs', content: API_TEST } },
        ]),
      ...(shell ? [() => toolReply([{ name: 'run_command', input: { command: 'node --test src/api/', timeout_ms: 60_000 } }])] : []),
      (results) =>
        textReply(
          `Backend done: src/api/greeting.mjs, ` +
            `src/api/greeting.test.mjs.${shell ? ` Tests: ${/exit code 0/.test(results[0] ?? '') ? 'passing' : 'FAILING'}.` : ''}`,
        ),
    ],
    'You are the frontend engineer': [
      () => toolReply([{ name: 'read_file', input: { path: 'docs/plan.md' } }]),
      () => toolReply([{ name: 'write_file', input: { path: 'src/ui/greeting.html', content: UI } }]),
      () => textReply('Frontend done: src/ui/greeting.html (labelled input, live region).'),
    ],
    'You are the technical writer': [
      () =>
        toolReply([
          { name: 'list_files', input: { pattern: 'reports/*.md' } },
          { name: 'read_file', input: { path: 'docs/plan.md' } },
        ]),
      () =>
        toolReply([
          {
            name: 'write_file',
            input: {
              path: 'docs/features/greeting.md',
              content: '# Personal greeting\n\nType your name and press **Greet me**; the page greets you by name.\n',
            },
          },
          {
            name: 'write_file',
            input: { path: 'CHANGELOG.md', content: '## Unreleased\n- Personal greeting (performance gate: warn, see reports/performance.md)\n' },
          },
        ]),
      () => textReply('docs/features/greeting.md'),
    ],
  };
  for (const gate of GATES) {
    const report = `reports/${gate.key}.md`;
    scripts[`You are the ${gate.role} gate`] = [
      () =>
        toolReply([
          { name: 'list_files', input: { pattern: 'src/**/*' } },
          { name: 'read_file', input: { path: 'docs/plan.md' } },
        ]),
      () =>
        toolReply([
          { name: 'write_file', input: { path: report, content: `# ${gate.role} report\n\nVerdict: ${verdicts[gate.key]}\n\n- ${gate.finding}\n` } },
          { name: 'record_verdict', input: { verdict: verdicts[gate.key], summary: gate.finding, report_path: report } },
        ]),
      () => textReply(`${verdicts[gate.key]}: ${gate.finding}`),
    ];
  }

  const latency = options.latencyMs ?? 0;
  return Object.fromEntries(
    Object.entries(scripts).map(([key, turns]) => [
      key,
      ((turn, request) => {
        const step = turns[Math.min(turn, turns.length) - 1]!;
        const reply = step(lastToolResults(request));
        return reply.kind === 'message' ? { ...reply, delayMs: latency, usage: usageFor(turn, request.body.messages.length) } : reply;
      }) satisfies AgentScript,
    ]),
  );
}

/** Model turns each example agent takes in this script (for critical-path arithmetic). */
export function addFeatureTurns(options: Pick<AddFeatureScriptOptions, 'shell'> = {}): Record<string, number> {
  const gates = Object.fromEntries(GATES.map((g) => [g.key, 3]));
  return { analysis: 3, backend: (options.shell ?? true) ? 4 : 3, frontend: 3, ...gates, documentation: 3 };
}

/** Plausible usage: the system prompt and tools are written to the cache on turn 1, read from it after. */
function usageFor(turn: number, messageCount: number): ScriptedUsage {
  const prefix = 1_800;
  return {
    input_tokens: 120 + messageCount * 90,
    output_tokens: 60 + turn * 25,
    cache_creation_input_tokens: turn === 1 ? prefix : 0,
    cache_read_input_tokens: turn === 1 ? 0 : prefix,
  };
}
