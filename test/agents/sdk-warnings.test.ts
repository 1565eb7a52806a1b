import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { captureConsoleWarnings } from '../../src/core/agents/sdk-warnings.ts';

test('captures console.warn inside the window only, and restores the console', () => {
  const before = globalThis.console;
  const { value, warnings } = captureConsoleWarnings(() => {
    console.warn('model', 'x', 'is deprecated');
    return 42;
  });
  assert.equal(value, 42);
  assert.deepEqual(warnings, ['model x is deprecated']);
  assert.equal(globalThis.console, before);
});

test('works where console.warn ignores assignments (VS Code’s extension host forwards the console that way)', () => {
  const original = globalThis.console;
  const seen: string[] = [];
  // A console like the extension host's: `warn` is a getter, and assigning it does nothing.
  const patched = Object.create(original) as Console;
  Object.defineProperty(patched, 'warn', {
    get:
      () =>
      (...args: unknown[]) =>
        seen.push(args.join(' ')),
    set: () => {},
  });
  globalThis.console = patched;
  try {
    const { warnings } = captureConsoleWarnings(() => console.warn('deprecated model'));
    assert.deepEqual(warnings, ['deprecated model']);
    assert.deepEqual(seen, [], 'nothing leaked to the forwarded console');
    assert.equal(globalThis.console, patched, 'restored');
  } finally {
    globalThis.console = original;
  }
});
