// The engine runtime's code cache (src/extension/code-cache.ts), in plain Node with real files: a bundle
// loads as `require` would load it, its second load uses V8's cache, and a changed bundle never does.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { requireWithCodeCache } from '../../src/extension/code-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'orchestr8-code-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BUNDLE = `
exports.answer = 42;
exports.where = { filename: __filename, dirname: __dirname, self: module.exports === exports };
exports.required = require('./required.cjs').value;
exports.imported = () => import('./imported.cjs').then((m) => m.default.value);
exports.builtin = require('node:path').basename('/a/b.txt');
`;

test('a bundle loads as require would, then from V8’s code cache; a changed bundle is compiled afresh', async (t) => {
  const file = join(dir, 'bundle.cjs');
  const cacheDir = join(dir, 'cache');
  writeFileSync(join(dir, 'required.cjs'), 'exports.value = "required";');
  writeFileSync(join(dir, 'imported.cjs'), 'module.exports = { value: "imported" };');
  writeFileSync(file, BUNDLE);

  const first = requireWithCodeCache(file, cacheDir);
  if (!first) return t.skip('this Node cannot let a compiled script import()');
  assert.equal(first.cacheUsed, false, 'no cache yet');
  const exports = first.exports as {
    answer: number;
    where: { filename: string; dirname: string; self: boolean };
    required: string;
    imported: () => Promise<string>;
    builtin: string;
  };
  assert.equal(exports.answer, 42);
  assert.deepEqual(exports.where, { filename: file, dirname: dir, self: true });
  assert.equal(exports.required, 'required', 'relative require from the bundle’s folder');
  assert.equal(await exports.imported(), 'imported', 'relative import() from the bundle’s folder (how the agent SDK is loaded)');
  assert.equal(exports.builtin, 'b.txt');
  first.saveCache();
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.code-cache')).length, 1);

  const second = requireWithCodeCache(file, cacheDir)!;
  assert.equal(second.cacheUsed, true, 'the second load uses the cache');
  assert.equal((second.exports as { answer: number }).answer, 42);
  second.saveCache(); // nothing to write

  // An updated extension: another bundle at the same path.
  writeFileSync(file, `${BUNDLE}\nexports.answer = 43;\n`);
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const third = requireWithCodeCache(file, cacheDir)!;
  assert.equal(third.cacheUsed, false, 'a cache made for another bundle is not used');
  assert.equal((third.exports as { answer: number }).answer, 43);
  third.saveCache();
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.code-cache')).length, 1, 'the stale cache is replaced');
  assert.equal(requireWithCodeCache(file, cacheDir)!.cacheUsed, true);
});
