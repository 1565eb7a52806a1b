import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskAction } from '../../src/core/model/workflow.ts';
import { InterpolationError, interpolateAction, interpolateText, parseTemplate, type InterpolationScope } from '../../src/core/workflow/interpolate.ts';

function scope(inputs: Record<string, string>, results: Record<string, string>): InterpolationScope {
  return { inputs, result: (key) => results[key] };
}

/** Runs an interpolated `run` action the way a shell runner would: `sh -c` with the action's env. */
function sh(action: TaskAction, cwd: string): string {
  assert.equal(action.kind, 'run');
  if (action.kind !== 'run') throw new Error('not a run action');
  return execFileSync('sh', ['-c', action.run], { cwd, env: { PATH: process.env.PATH, ...action.env }, encoding: 'utf8' });
}

test('prompts and wait messages get values verbatim; $${ is a literal ${', () => {
  const s = scope({ target: 'src' }, { lint: '3 warnings; `rm -rf ~`' });
  assert.deepEqual(interpolateAction({ kind: 'agent', agent: 'r', prompt: 'Review ${inputs.target}: ${ tasks.lint.result } and $${inputs.target}' }, s), {
    kind: 'agent',
    agent: 'r',
    prompt: 'Review src: 3 warnings; `rm -rf ~` and ${inputs.target}',
  });
  assert.deepEqual(interpolateAction({ kind: 'wait', message: 'Ship ${inputs.target}?' }, s), { kind: 'wait', message: 'Ship src?' });
  assert.deepEqual(interpolateAction({ kind: 'wait' }, s), { kind: 'wait' });
  assert.equal(interpolateText('cost: $5, pid $$, {braces}, ${inputs.target}', s), 'cost: $5, pid $$, {braces}, src');
});

test('run commands get quoted env-var references and the values in env', () => {
  const s = scope({ target: 'src', 'out-dir': 'o', out_dir: 'p' }, { lint: 'ok' });
  const action = interpolateAction(
    {
      kind: 'run',
      run: 'eslint ${inputs.target} && echo "lint: ${tasks.lint.result}" \'${inputs.out-dir}\' ${inputs.out_dir} $${HOME}',
      env: { CI: '${inputs.target}!' },
    },
    s,
  );
  assert.deepEqual(action, {
    kind: 'run',
    run: 'eslint "$O8_INPUT_TARGET" && echo "lint: ${O8_TASK_LINT_RESULT}" \'\'"$O8_INPUT_OUT_DIR"\'\' "$O8_INPUT_OUT_DIR_2" ${HOME}',
    env: { CI: 'src!', O8_INPUT_TARGET: 'src', O8_TASK_LINT_RESULT: 'ok', O8_INPUT_OUT_DIR: 'o', O8_INPUT_OUT_DIR_2: 'p' },
  });
});

test('a hostile task result stays data in every quoting context of a shell command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'o8-interp-'));
  try {
    const evil = `x'; touch pwned1; echo '" ; touch pwned2; $(touch pwned3) \`touch pwned4\` * ~`;
    const s = scope({ target: 'a b' }, { agent: evil });
    const run = [
      'printf "%s\\n" ${tasks.agent.result}',
      'printf "%s\\n" "quoted: ${tasks.agent.result}"',
      "printf '%s\\n' 'single: ${tasks.agent.result}'",
      'printf "%s\\n" "$(printf "%s" ${tasks.agent.result})"',
      'printf "%s\\n" ${inputs.target}',
    ].join('; ');
    const out = sh(interpolateAction({ kind: 'run', run }, s), dir);
    assert.equal(out, `${evil}\nquoted: ${evil}\nsingle: ${evil}\n${evil}\na b\n`);
    for (const f of ['pwned1', 'pwned2', 'pwned3', 'pwned4']) assert.equal(existsSync(join(dir, f)), false, `${f} was created`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing result or input is an error at interpolation time', () => {
  const s = scope({}, {});
  assert.throws(
    () => interpolateAction({ kind: 'run', run: 'echo ${tasks.lint.result}' }, s),
    (e: unknown) => {
      assert.ok(e instanceof InterpolationError);
      assert.equal(e.message, "${tasks.lint.result}: task 'lint' has no result");
      return true;
    },
  );
  assert.throws(() => interpolateAction({ kind: 'agent', agent: 'a', prompt: '${inputs.who}' }, s), { message: "${inputs.who}: input 'who' has no value" });
  assert.throws(() => interpolateAction({ kind: 'run', run: 'echo ${PATH}' }, s), /malformed reference "\$\{PATH\}"/);
});

test('parseTemplate splits text and references and reports malformed ones with offsets', () => {
  const { parts, problems } = parseTemplate('a ${inputs.x} $${y} ${tasks.t-1.result} ${tasks.t.output} ${oops');
  assert.deepEqual(parts, [
    { kind: 'text', text: 'a ' },
    { kind: 'input', name: 'x', raw: '${inputs.x}', offset: 2 },
    { kind: 'text', text: ' ${y} ' },
    { kind: 'result', task: 't-1', raw: '${tasks.t-1.result}', offset: 20 },
    { kind: 'text', text: ' ${tasks.t.output} ${oops' },
  ]);
  assert.deepEqual(
    problems.map((p) => [p.offset, p.raw]),
    [
      [40, '${tasks.t.output}'],
      [58, '${oops'],
    ],
  );
});

test('a run task keeps its sandbox flag through interpolation', () => {
  const s = scope({ target: 'src' }, {});
  assert.deepEqual(interpolateAction({ kind: 'run', run: 'ls ${inputs.target}', sandbox: true }, s), {
    kind: 'run',
    run: 'ls "$O8_INPUT_TARGET"',
    env: { O8_INPUT_TARGET: 'src' },
    sandbox: true,
  });
});
