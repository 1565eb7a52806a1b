import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { interpolateAction, parseTemplate } from '../../src/core/workflow/interpolate.ts';
import { shellContexts } from '../../src/core/workflow/shell-context.ts';

const contexts = (run: string) => shellContexts(parseTemplate(run).parts);

test('each reference gets the quoting context it sits in', () => {
  assert.deepEqual(contexts('echo ${inputs.a} "${inputs.a}" \'${inputs.a}\' "$(echo ${inputs.a} "${inputs.a}")" $(( 1 + 2 )) ${inputs.a}'), [
    'plain',
    'double',
    'single',
    'plain',
    'double',
    'plain',
  ]);
  // An apostrophe in a comment opens no quote; `\'` is no quote either.
  assert.deepEqual(contexts("# don't worry\necho it\\'s ${inputs.a} # ${inputs.a} isn't used\necho ${inputs.a}"), ['plain', 'plain', 'plain']);
  assert.deepEqual(contexts("cat <<EOF\nit's ${inputs.a}\nEOF\ncat <<-'END'\n\t${inputs.a}\n\tEND\necho '${inputs.a}'"), ['double', 'literal', 'single']);
});

test('a multi-line script with a comment and a heredoc runs with the values, and nothing else', () => {
  const evil = `it's "$(touch /nonexistent-o8-pwned)" \`id\`; exit 7`;
  const run = [
    "# don't break on this apostrophe",
    'echo ${tasks.a.result}',
    'cat <<EOF',
    "heredoc: ${tasks.a.result}'s",
    'EOF',
    "echo 'single: ${inputs.x}'",
  ].join('\n');
  const action = interpolateAction({ kind: 'run', run }, { inputs: { x: 'x y' }, result: () => evil });
  assert.equal(action.kind, 'run');
  if (action.kind !== 'run') return;
  const out = execFileSync('sh', ['-c', action.run], { env: { PATH: process.env.PATH, ...action.env }, encoding: 'utf8' });
  assert.equal(out, `${evil}\nheredoc: ${evil}'s\nsingle: x y\n`);
});

test('a reference in a quoted heredoc cannot be expanded and is refused', () => {
  assert.throws(
    () => interpolateAction({ kind: 'run', run: "cat <<'EOF'\n${inputs.x}\nEOF" }, { inputs: { x: '1' }, result: () => undefined }),
    /\$\{inputs.x\} is inside a heredoc with a quoted delimiter/,
  );
});
