// `npm run demo`: runs the bundled offline workflow on the embedded sql.js store, then
// shows what it stored. The run ends "failed" on purpose (one task always fails and
// its dependent is skipped), so this script checks the run did exactly what it shows
// and exits 0 only then.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const state = '.orchestr8/demo-state';
const cli = (...args) => execFileSync(process.execPath, ['dist/cli.cjs', ...args, '--state', state], { encoding: 'utf8' });
fs.rmSync(state, { recursive: true, force: true });

const run = spawnSync(process.execPath, ['dist/cli.cjs', 'run', 'examples/demo.yaml', '--state', state], { stdio: 'inherit' });
const { run: record, tasks } = JSON.parse(cli('status', JSON.parse(cli('status', '--json')).runs[0].id, '--json'));
const byKey = Object.fromEntries(tasks.map((t) => [t.key, t]));
const expected = {
  lint: 'completed',
  'unit-tests': 'completed',
  version: 'completed',
  build: 'completed',
  package: 'completed',
  flaky: 'completed',
  audit: 'failed',
  report: 'completed',
  broken: 'failed',
  publish: 'skipped',
  cleanup: 'completed',
};
const wrong = Object.entries(expected).filter(([key, state]) => byKey[key]?.state !== state);
console.log(`\nStored result of ${record.id}.package: ${cli('result', `${record.id}.package`).trim()}`);
console.log(`flaky took ${byKey.flaky.attempt} attempts; publish was skipped because ${byKey.publish.error}.`);
console.log(`Explore: node dist/cli.cjs status ${record.id} --state ${state}`);
if (run.status !== 1 || wrong.length) {
  console.error(`demo did not behave as designed: exit ${run.status}; ${wrong.map(([k, s]) => `${k} is ${byKey[k]?.state}, expected ${s}`).join('; ')}`);
  process.exit(1);
}
console.log('Demo behaved as designed (the run fails on purpose: "broken" always fails).');
