import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeWorkflow } from '../../src/core/workflow/parse-workflow.ts';

// Seeded mutations of the shipped examples: whatever the bytes, the parser answers with issues
// that each name a place and fit on one line; it never throws and never writes to stderr.
const SEEDS = ['examples/add-feature.yaml', 'examples/demo.yaml'].map((file) => readFileSync(file, 'utf8'));
const TOKENS = [
  '*a',
  '&a ',
  ' *a',
  ': *a',
  ': &a x',
  '<<: *a',
  ':',
  '{',
  '}',
  '[',
  ']',
  '- ',
  '\n',
  '  ',
  '"',
  "'",
  '#',
  '!!int ',
  '!x ',
  '|',
  '>',
  '---\n',
  '${{',
  '${tasks.',
  '}',
  '?',
  '%YAML 1.2\n',
  '%FOO\n',
  '\t',
  ',',
  '~',
  '\\',
];
const MUTATIONS = 4000;

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 1) / 0x80000000;
}

function mutate(text: string, rnd: () => number): string {
  let t = text;
  for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
    const at = Math.floor(rnd() * t.length);
    const r = rnd();
    if (r < 0.45) t = t.slice(0, at) + TOKENS[Math.floor(rnd() * TOKENS.length)] + t.slice(at);
    else if (r < 0.75) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 20));
    else {
      const from = Math.floor(rnd() * t.length);
      t = t.slice(0, at) + t.slice(from, from + 30) + t.slice(at);
    }
  }
  return t;
}

function assertWellFormed(text: string): void {
  const { issues } = analyzeWorkflow(text, 'w.yaml');
  for (const issue of issues) {
    assert.ok(issue.line > 0 && issue.col > 0, `issue without a place: ${issue.message}\n--- file:\n${text}`);
    assert.ok(!issue.message.includes('\n'), `issue over several lines: ${JSON.stringify(issue.message)}`);
  }
}

test('aliases that name no anchor are issues with a place, not a crash', () => {
  for (const [text, line, col] of [
    ['a: { run: *a }\n', 1, 11],
    ['name: x\ntasks:\n  a: { run: *b }\n', 3, 13],
  ] as const) {
    const { issues } = analyzeWorkflow(text, 'w.yaml');
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.match(issues[0]!.message, /unknown alias \*[ab]/);
    assert.deepEqual([issues[0]!.line, issues[0]!.col], [line, col]);
  }
});

test("the YAML library's warnings are issues, not lines on stderr", () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    assert.match(analyzeWorkflow('%FOO\n---\nname: x\ntasks: { a: { run: ls } }\n', 'w.yaml').issues[0]!.message, /Unknown directive %FOO/);
    assert.match(analyzeWorkflow('name: !weird x\ntasks: { a: { run: ls } }\n', 'w.yaml').issues[0]!.message, /Unresolved tag: !weird/);
    assert.ok(analyzeWorkflow('name: x\n? { a: 1 }\n: 2\ntasks: { a: { run: ls } }\n', 'w.yaml').issues.length > 0);
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});

test('a reference broken over two lines is reported on one line', () => {
  const text = 'name: x\ntasks:\n  a: { run: ls }\n  b:\n    needs: [a]\n    run: |\n      echo ${tasks.a.res\n      ult}\n';
  const { issues } = analyzeWorkflow(text, 'w.yaml');
  assert.ok(issues.length > 0);
  for (const issue of issues) assert.ok(!issue.message.includes('\n'), issue.message);
});

test(`${MUTATIONS} seeded mutations of the examples: no throw, every issue placed and on one line`, () => {
  const rnd = random(20261130);
  for (let i = 0; i < MUTATIONS; i++) assertWellFormed(mutate(SEEDS[i % SEEDS.length]!, rnd));
});
