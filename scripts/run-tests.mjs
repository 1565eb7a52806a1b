// Runs node's test runner over every *.test.ts / *.test.mjs below the given folders
// (default: test/), except end-to-end suites, which have their own script.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots
  .flatMap((root) => (fs.statSync(root).isFile() ? [root] : fs.readdirSync(root, { recursive: true }).map((f) => path.join(root, f))))
  .filter((f) => /\.test\.(ts|mjs)$/.test(f) && !f.split(path.sep).includes('e2e'))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
// A backstop: a test file that waits for something that never comes fails after 20 minutes
// (node 20 applies --test-timeout to each file's process) instead of holding CI forever.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=1200000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
