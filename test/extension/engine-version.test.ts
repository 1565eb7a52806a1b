// `engines.vscode` is the oldest VS Code the extension runs on, and @types/vscode describes that VS Code:
// newer types would let code call an API the oldest host lacks (and `vsce package` refuses them), older
// ones would need hand-written declarations. Raising the floor is a decision: say why in NEEDS below.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

const read = (file: string) => JSON.parse(fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
const pkg = read('package.json');
const lock = read('package-lock.json');

/** What sets the floor: APIs the extension calls without a feature check, and bundled libraries that drive VS Code. */
const NEEDS: readonly { what: string; since: string; usedIn: string; uses: string }[] = [
  {
    what: 'vscode.lm.registerTool (Copilot agent-mode tools)',
    since: '1.95.0',
    usedIn: 'src/extension/language-model-tools.ts',
    uses: 'vscode.lm.registerTool',
  },
  {
    what: 'vscode-languageclient (the workflow language client)',
    since: read('node_modules/vscode-languageclient/package.json').engines.vscode,
    usedIn: 'src/extension/workflow-client-runtime.ts',
    uses: 'vscode-languageclient',
  },
];

/** [major, minor, patch] of `1.95.0`, `^1.95.0` or `>=1.95.0`. */
function version(range: string): [number, number, number] {
  const m = /^(?:\^|>=)?(\d+)\.(\d+)\.(\d+)$/.exec(range);
  assert.ok(m, `a plain version or ^/>= range: ${range}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
const compare = (a: readonly number[], b: readonly number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
const minor = (v: readonly number[]) => `${v[0]}.${v[1]}`;

test('engines.vscode is the newest of what the extension needs, no older and no newer', () => {
  const engine = version(pkg.engines.vscode);
  assert.match(pkg.engines.vscode, /^\^/, 'a caret range: the floor, and any later 1.x');
  for (const need of NEEDS) {
    assert.ok(compare(engine, version(need.since)) >= 0, `${need.what} needs VS Code ${need.since}, engines.vscode says ${pkg.engines.vscode}`);
    // An entry whose use has gone would hold the floor up for nothing.
    assert.ok(
      fs.readFileSync(new URL(`../../${need.usedIn}`, import.meta.url), 'utf8').includes(need.uses),
      `${need.usedIn} no longer uses ${need.uses}: drop it from NEEDS`,
    );
  }
  const floor = NEEDS.map((n) => version(n.since)).reduce((a, b) => (compare(a, b) >= 0 ? a : b));
  assert.equal(
    minor(engine),
    minor(floor),
    `engines.vscode ${pkg.engines.vscode} is above what NEEDS asks (${minor(floor)}): add the reason to NEEDS, or lower it`,
  );
});

test('@types/vscode is pinned to the minor of engines.vscode, in package.json, the lock and node_modules', () => {
  const engine = minor(version(pkg.engines.vscode));
  const pinned = pkg.devDependencies['@types/vscode'];
  assert.match(pinned, /^\d+\.\d+\.\d+$/, 'an exact version: a caret would let npm install newer types than the floor');
  assert.equal(minor(version(pinned)), engine, `@types/vscode ${pinned} against engines.vscode ${pkg.engines.vscode}`);
  assert.equal(lock.packages['node_modules/@types/vscode'].version, pinned, 'package-lock.json');
  assert.equal(read('node_modules/@types/vscode/package.json').version, pinned, 'installed (run npm ci)');
});
